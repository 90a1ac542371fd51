import { afterEach, describe, expect, it } from "vitest"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { eventually, type GatewayHarness, gatewaySpec, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

const json = async (response: Response) => (await response.json()) as Record<string, unknown>

const nextEvent = (h: GatewayHarness, predicate: (e: SamEvent) => boolean) =>
  new Promise<SamEvent>((resolve) => {
    const off = h.sam.events.subscribe((e) => {
      if (!predicate(e)) return
      off()
      resolve(e)
    })
  })

describe("start-on-demand and scaling", () => {
  it("a min_instances 0 service starts on the first request, answers it, and stops after idle_seconds", async () => {
    h = await startGateway([upstream("vectors", { instances: 0, maxInstances: 1, gateway: { idleMs: 400 } })])
    expect(h.sam.unitStatus("vectors").instances).toEqual([])
    const starting = nextEvent(h, (e) => e.type === "gateway.on-demand" && e.action === "start")
    const response = await fetch(`${h.url}/api/vectors/whoami`)
    expect(((await starting) as { detail?: unknown }).detail).toBe(
      'a request for "vectors" came through the gateway: starting it',
    )
    expect(response.status).toBe(200)
    expect((await json(response)).instance).toBe("0")
    expect(h.sam.unitStatus("vectors").instances).toHaveLength(1)
    const stopping = nextEvent(h, (e) => e.type === "gateway.on-demand" && e.action === "stop")
    const stopped = await stopping
    expect((stopped as { detail?: unknown }).detail).toBe(
      'no request for "vectors" in 0 s (scaling.idle_seconds): stopping it',
    )
    await eventually(() => h!.sam.unitStatus("vectors").instances.length === 0)
    // And again on the next request.
    expect((await fetch(`${h.url}/api/vectors/whoami`)).status).toBe(200)
  })

  it("a request that finds no instance started within start_ms gets 503", async () => {
    const spec = upstream("broken", {
      instances: 0,
      maxInstances: 1,
      gateway: { timeouts: { startMs: 300 } },
    })
    h = await startGateway([
      { ...spec, process: { ...spec.process!, args: ["-e", "setInterval(() => {}, 1000)"] } },
    ])
    const response = await fetch(`${h.url}/api/broken/x`)
    expect(response.status).toBe(503)
    expect((await json(response)).detail).toBe(
      '"broken" did not become ready within 300 ms (gateway.timeouts.start_ms)',
    )
  })

  it("a start-on-demand whose service crashes at start answers 503 at once, saying why and when SAM tries again", async () => {
    const spec = upstream("lazybad", {
      instances: 0,
      maxInstances: 1,
      gateway: { timeouts: { startMs: 60_000 } },
    })
    h = await startGateway([
      {
        ...spec,
        process: { ...spec.process!, env: { ...spec.process!.env, EXIT_AT_START: "no model file" } },
        // A backoff long enough that the second request surely comes during it.
        restart: { ...spec.restart, backoffBaseMs: 20_000, backoffMaxMs: 20_000 },
      },
    ])
    // Not held for start_ms (a minute): the crash ends the wait.
    const response = await fetch(`${h.url}/api/lazybad/x`, { signal: AbortSignal.timeout(30_000) })
    expect(response.status).toBe(503)
    const detail = String((await json(response)).detail)
    expect(detail).toMatch(
      /^"lazybad" was started for this request and failed \(exited with code 1: no model file\): it is in backoff after a failure; SAM starts it again in \d+ s$/,
    )
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    // The next request, while SAM waits out the backoff, is not held for the next attempt either.
    await eventually(() => h!.sam.unitStatus("lazybad").state === "backoff")
    const again = await fetch(`${h.url}/api/lazybad/x`, { signal: AbortSignal.timeout(30_000) })
    expect(again.status).toBe(503)
    expect(String((await json(again)).detail)).toMatch(
      /^"lazybad" failed to start \(exited with code 1: no model file\): it is in backoff after a failure; SAM starts it again in \d+ s$/,
    )
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
  })

  it("scaling in with the gateway's drain lets requests in flight finish: no request fails", async () => {
    h = await startGateway([upstream("api", { instances: 2, maxInstances: 2 })])
    await h.routable("api", 2)
    // Two slow requests: least_request puts one on each instance.
    const slow = [fetch(`${h.url}/api/api/slow?ms=500`), fetch(`${h.url}/api/api/slow?ms=500`)]
    await new Promise<void>((resolve) => {
      const poll = () => (h!.gateway.inFlight("api", 1) === 1 ? resolve() : setImmediate(poll))
      poll()
    })
    const scaled = h.sam.scale("api", 1, { drain: h.gateway.drain })
    // Meanwhile new requests go to instance 0 only.
    const during = await Promise.all(Array.from({ length: 10 }, () => fetch(`${h!.url}/api/api/whoami`)))
    expect(during.map((r) => r.status)).toEqual(Array(10).fill(200))
    const answers = await Promise.all(slow)
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    await scaled
    expect(h.sam.unitStatus("api").instances).toHaveLength(1)
    expect(h.gateway.inFlight("api", 1)).toBe(0)
  })

  it("autoscales on target_in_flight as the gateway counts requests in flight", async () => {
    const spec = {
      ...upstream("api", { instances: 1, maxInstances: 3 }),
      autoscale: { inFlight: 2, upMs: 200, downMs: 60_000, cooldownMs: 200 },
    }
    h = await startGateway([spec], { usageIntervalMs: 100 })
    await h.routable("api", 1)
    const out = nextEvent(h, (e) => e.type === "supervisor" && e.action === "scale" && e.unit === "api")
    // Six requests held open on the one instance: 6 in flight against a target of 2 asks for 3.
    const abort = new AbortController()
    const held = Array.from({ length: 6 }, () =>
      fetch(`${h!.url}/api/api/slow?ms=60000`, { signal: abort.signal }).catch((e: unknown) => e),
    )
    await eventually(() => h!.gateway.inFlight("api", 0) === 6)
    const scaled = await out
    // 6 in flight against a target of 2 asks for 3; a sample taken while the requests were still
    // arriving may have asked for 2, and the window scales to the lowest count it saw (HPA's
    // stabilisation). Either way the unit reaches 3: with [6, 0] in flight the average is 3.
    expect((scaled as { detail?: unknown }).detail).toMatch(
      /^api: 6 in flight per instance > 2 for [\d.]+s: 1 → [23] instances$/,
    )
    await h.routable("api", 3)
    abort.abort()
    for (const r of await Promise.all(held)) expect(r).toBeInstanceOf(Error)
    // Aborted by the client: the gateway stops counting them.
    await eventually(() => h!.gateway.inFlight("api", 0) === 0)
  })

  it("a config change of the gateway settings applies without restarting the service", async () => {
    const before = upstream("api")
    h = await startGateway([before])
    await h.routable("api", 1)
    const pid = h.sam.unitStatus("api").pid
    const after = {
      ...before,
      gateway: gatewaySpec({ rateLimit: { requestsPerSecond: 1, burst: 1, key: "ip" } }),
    }
    const report = await h.sam.apply({ units: [after], groups: [] })
    expect(report.diff.reconfigured.map((s) => s.id)).toEqual(["api"])
    // What the config reloader announces after applying an edit (src/runtime/configReload.ts).
    h.sam.bus.publish({ type: "config.reloaded", reconfigured: ["api"] })
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(429)
    expect(h.sam.unitStatus("api").pid).toBe(pid)
  })
})
