// runtime.port_range: services without deployment.port get ports from the range (and keep them),
// and a range with no free port left fails the start saying so, instead of a port outside it.

import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import type { SamConfigInput } from "../../src/config/schema.ts"
import { fixture, survivors } from "../support/runtime.ts"

const bind = (port: number): Promise<Server | undefined> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(undefined))
    server.listen(port, "127.0.0.1", () => resolve(server))
  })
const close = (server: Server) => new Promise((resolve) => server.close(resolve))

/** `count` consecutive ports free on 127.0.0.1 now (probed by binding each). */
const freeRun = async (count: number): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const from = 40_000 + Math.floor(Math.random() * 9_000)
    const held: Server[] = []
    for (let i = 0; i < count; i++) {
      const server = await bind(from + i)
      if (!server) break
      held.push(server)
    }
    await Promise.all(held.map(close))
    if (held.length === count) return from
  }
  throw new Error(`no ${count} consecutive free ports found`)
}

const http = (): NonNullable<SamConfigInput["services"]>[string] => ({
  deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
  health_check: { endpoint: "/health", interval_seconds: 1 },
})

let sam: ConfiguredSam | undefined
let dir: string | undefined
afterEach(async () => {
  const pids = sam?.status().units.flatMap((u) => (u.pid ? [u.pid] : [])) ?? []
  await sam?.stop()
  sam = undefined
  expect(survivors(pids)).toEqual([])
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

describe("runtime.port_range", () => {
  it("hands out ports from the range, one per instance", async () => {
    const from = await freeRun(3)
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    sam = await createSam(
      {
        runtime: { port_range: `${from}-${from + 2}`, state_dir: ".sam" },
        services: { a: http(), b: { ...http(), scaling: { max_instances: 2 } } },
      },
      { cwd: dir, plugins: false },
    )
    const report = await sam.start()
    expect([...report.ready].sort()).toEqual(["a", "b"])
    await sam.scale("b", 2)
    await sam.until("b", (s) => s.instances.length === 2 && s.instances.every((i) => i.ready))
    const ports = ["a", "b"].flatMap((id) => sam!.unitStatus(id).instances.map((i) => i.port))
    expect(ports).toHaveLength(3)
    expect(new Set(ports).size).toBe(3)
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(from)
    for (const port of ports) expect(port).toBeLessThanOrEqual(from + 2)
  })

  it("with every port of the range taken, the start fails naming the range", async () => {
    const from = await freeRun(1)
    const holder = await bind(from)
    if (!holder) throw new Error(`port ${from} was taken meanwhile`)
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    try {
      sam = await createSam(
        {
          runtime: { port_range: `${from}-${from}`, state_dir: ".sam" },
          services: { a: { ...http(), restart_policy: "never" } },
        },
        { cwd: dir, plugins: false },
      )
      const report = await sam.start()
      expect(report.ready).toEqual([])
      expect(report.notReady[0]).toMatchObject({
        id: "a",
        reason: expect.stringContaining(
          `no free port in runtime.port_range ${from}-${from}: all 1 are in use`,
        ),
      })
    } finally {
      await close(holder)
    }
  })
})

describe("a fixed deployment.port", () => {
  it("instance N of a scaled service listens on port + N", async () => {
    const port = await freeRun(2)
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    sam = await createSam(
      {
        runtime: { state_dir: ".sam" },
        services: {
          web: { ...http(), deployment: { ...http().deployment, port }, scaling: { max_instances: 2 } },
        },
      },
      { cwd: dir, plugins: false },
    )
    await sam.start()
    await sam.scale("web", 2)
    await sam.until("web", (s) => s.instances.length === 2 && s.instances.every((i) => i.ready))
    expect(sam.unitStatus("web").instances.map((i) => i.port)).toEqual([port, port + 1])
  })
})
