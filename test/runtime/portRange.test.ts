// runtime.port_range: services without deployment.port get ports from the range (and keep them),
// and a range with no free port left fails the start saying so, instead of a port outside it.

import { mkdtempSync, rmSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import type { SamConfigInput } from "../../src/config/schema.ts"
import { defaultPortRange, ephemeralOverlap, freePort, reservePorts } from "../../src/runtime/freePort.ts"
import { fixture, survivors } from "../support/runtime.ts"

const bind = (port: number): Promise<Server | undefined> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(undefined))
    server.listen(port, "127.0.0.1", () => resolve(server))
  })
const close = (server: Server) => new Promise((resolve) => server.close(resolve))

/** `count` consecutive ports free on 127.0.0.1 now (probed by binding each). */
const freeRun = async (count: number, lowest = 40_000, span = 9_000): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const from = lowest + Math.floor(Math.random() * span)
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

  it("taken by another program, the unit is not started on it (whose health check it would pass) until it is free", async () => {
    const port = await freeRun(1)
    // Another program on the port, healthy: a check of the port would ask it, and pass.
    const asked: string[] = []
    const other = createHttpServer((req, res) => {
      asked.push(req.url ?? "")
      res.end("not web")
    })
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve))
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    try {
      sam = await createSam(
        {
          runtime: { state_dir: ".sam" },
          services: {
            web: {
              ...http(),
              deployment: { ...http().deployment, port },
              restart_policy: { backoff_seconds: 0.05, max_backoff_seconds: 0.2 },
            },
          },
        },
        { cwd: dir, plugins: false },
      )
      void sam.start()
      await sam.until("web", (s) => s.state === "backoff")
      expect(sam.unitStatus("web").instances[0]).toMatchObject({
        ready: false,
        pid: undefined,
        reason: `start failed: port ${port} (deployment.port) is in use by another program; web was not started on it`,
      })
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
    // Freed, the next attempt takes it; the other program was never health-checked.
    await sam.until("web", (s) => s.ready, 10_000)
    expect(sam.unitStatus("web").instances[0]?.port).toBe(port)
    expect(asked).toEqual([])
  })
})

describe("ports handed out at the same time", () => {
  it("are never the same port twice (two units a reload adds start together)", async () => {
    // A range of its own, searched by 40 starts at once, several times over.
    const range = { from: 43_100, to: 43_299 }
    const ports = (await Promise.all(Array.from({ length: 40 }, () => freePort(range)))).concat(
      await Promise.all(Array.from({ length: 40 }, () => freePort(range))),
    )
    expect(new Set(ports).size).toBe(ports.length)
    for (const port of ports) expect(port >= range.from && port <= range.to).toBe(true)
  })

  it("skip a port the runtime store keeps for an instance not started yet (reserved when SAM starts)", async () => {
    reservePorts([43_400])
    expect(await freePort({ from: 43_400, to: 43_401 })).toBe(43_401)
  })
})

describe("ports SAM picks itself (no runtime.port_range)", () => {
  it("come from below the kernel's ephemeral range, where no outgoing connection takes them", async () => {
    expect(defaultPortRange({ from: 32_768, to: 60_999 })).toEqual({ from: 20_000, to: 32_767 })
    expect(defaultPortRange({ from: 1_024, to: 65_535 })).toBeUndefined()
    expect(ephemeralOverlap({ from: 46_100, to: 46_199 }, { from: 32_768, to: 60_999 })).toEqual({
      from: 46_100,
      to: 46_199,
    })
    expect(ephemeralOverlap({ from: 20_000, to: 20_999 }, { from: 32_768, to: 60_999 })).toBeUndefined()
    const own = defaultPortRange()
    expect(own, "this host's ip_local_port_range leaves room below it").toBeDefined()
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    sam = await createSam(
      { runtime: { state_dir: ".sam" }, services: { a: http(), b: http() } },
      { cwd: dir, plugins: false },
    )
    await sam.start()
    for (const id of ["a", "b"]) {
      const port = sam.unitStatus(id).instances[0]?.port ?? 0
      expect(port).toBeGreaterThanOrEqual(own!.from)
      expect(port).toBeLessThanOrEqual(own!.to)
    }
  })

  it("a kept port something else took while the unit was down is replaced, and the supervisor says so", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    sam = await createSam(
      { runtime: { state_dir: ".sam" }, services: { a: http() } },
      { cwd: dir, plugins: false },
    )
    const moved: string[] = []
    sam.events.subscribe((e) => {
      if (e.type === "supervisor" && e.action === "port-moved") moved.push(e.detail)
    })
    await sam.start()
    const kept = sam.unitStatus("a").instances[0]?.port ?? 0
    await sam.services.stop("a")
    const holder = await bind(kept)
    if (!holder) throw new Error(`port ${kept} did not bind after a's stop`)
    try {
      await sam.services.start("a")
      await sam.until("a", (s) => s.ready)
      const now = sam.unitStatus("a").instances[0]?.port
      expect(now).not.toBe(kept)
      expect(sam.unitStatus("a").restarts).toBe(0)
      expect(moved).toEqual([
        `a#0: its port ${kept} was taken while it was down (by another program, or as the source port of an outgoing connection); it now listens on ${now}`,
      ])
    } finally {
      await close(holder)
    }
  })
})

describe("a fixed port SAM's own unit holds", () => {
  it("a scaled instance whose deployment.port + instance is another unit's says which unit holds it", async () => {
    const base = await freeRun(2, 48_000, 990)
    dir = mkdtempSync(join(tmpdir(), "sam-port-range-"))
    sam = await createSam(
      {
        runtime: { state_dir: ".sam" },
        services: {
          // Two configs validate would refuse (the overlap is an error): built as an embedder might.
          fixed2: { ...http(), deployment: { ...http().deployment, port: base + 1 } },
        },
      },
      { cwd: dir, plugins: false },
    )
    await sam.start()
    await sam.until("fixed2", (s) => s.ready, 10_000)
    const [fixed2] = sam.unitSpecs()
    await sam.apply({
      units: [
        fixed2!,
        {
          ...fixed2!,
          id: "fixed",
          maxInstances: 3,
          process: { ...fixed2!.process!, port: base },
          restart: { ...fixed2!.restart, backoffBaseMs: 50, backoffMaxMs: 200 },
        },
      ],
      groups: [],
    })
    await sam.until("fixed", (s) => s.ready, 10_000)
    await sam.scale("fixed", 2, { remember: false })
    await sam.until("fixed", (s) => s.instances[1]?.state === "backoff", 10_000)
    expect(sam.unitStatus("fixed").instances[1]?.reason).toBe(
      `start failed: port ${base + 1} (deployment.port + instance 1) is in use by fixed2, another of SAM's units (give one of them another deployment.port); fixed#1 was not started on it`,
    )
  })
})
