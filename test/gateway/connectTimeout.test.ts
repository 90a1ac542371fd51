import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { afterEach, describe, expect, it } from "vitest"
import { validateConfigObject } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { type GatewayHarness, startGateway } from "../support/gateway.ts"
import { fixture } from "../support/runtime.ts"

// gateway.timeouts.connect_ms: an upstream whose TCP handshake never completes (its accept queue
// is full, so SYNs are dropped) answers 502 naming the connect timeout once connect_ms has passed,
// instead of holding the client until the kernel gives up (minutes); ttfb_ms bounds the wait for
// headers from the first attempt on, connecting included.

let h: GatewayHarness | undefined
let hole: ChildProcess | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  if (hole && hole.exitCode === null) {
    hole.stdin?.end()
    await once(hole, "exit")
  }
  hole = undefined
  expect(left ?? []).toEqual([])
})

/** An external service at `url` with `gateway.timeouts`, as a config gives it. */
const external = (id: string, url: string, timeouts: Record<string, number>): UnitSpec[] =>
  unitSpecsFromConfig(
    validateConfigObject({
      services: {
        [id]: {
          deployment: { mode: "external", url },
          gateway: { timeouts, retries: { attempts: 1 } },
        },
      },
    }),
  ).units.slice()

/** The blackhole's port: a host whose handshakes never complete. */
const blackhole = async (): Promise<number> => {
  hole = spawn("python3", [fixture("blackhole.py")], { stdio: ["pipe", "pipe", "inherit"] })
  const [line] = (await once(hole.stdout!, "data")) as [Buffer]
  return Number(line.toString().trim())
}

describe("connect_ms and ttfb_ms", () => {
  it("a handshake that never completes fails after connect_ms with a 502 naming the cause", async () => {
    const port = await blackhole()
    h = await startGateway(external("slowhost", `http://127.0.0.1:${port}`, { connect_ms: 300 }))
    await h.routable("slowhost", 1)
    const response = await fetch(`${h.url}/api/slowhost/x`)
    expect(response.status).toBe(502)
    const body = (await response.json()) as { detail: string }
    expect(body.detail).toMatch(/^cannot connect to "slowhost" \(http:\/\/127\.0\.0\.1:\d+\): /)
    // undici's connect timeout (connect_ms), not the kernel's SYN retries, ended it.
    expect(body.detail).toMatch(/Connect Timeout Error.*timeout: 300ms/)
  })

  it("ttfb_ms counts from the request's first attempt: one still waiting for a connection gets its 504 on time", async () => {
    // The connection would take connect_ms (a minute) to fail; ttfb_ms (300 ms) is the first bound.
    const port = await blackhole()
    h = await startGateway(
      external("slowhost", `http://127.0.0.1:${port}`, { connect_ms: 60_000, ttfb_ms: 300 }),
    )
    await h.routable("slowhost", 1)
    const response = await fetch(`${h.url}/api/slowhost/x`)
    expect(response.status).toBe(504)
    expect(((await response.json()) as { detail: string }).detail).toBe(
      '"slowhost" sent no response headers within 300 ms (gateway.timeouts.ttfb_ms)',
    )
    expect(h.gateway.inFlight("slowhost", 0)).toBe(0)
  })
})
