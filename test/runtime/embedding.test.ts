import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { createSam } from "../../src/app/createSam.ts"
import { SamService, samLayer } from "../../src/app/samLayer.ts"
import { SamStopping } from "../../src/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { added, closePhase, openResources } from "../support/handles.ts"
import { fixture, httpCheck, nodeService, survivors } from "../support/runtime.ts"

describe("embedding SAM in a Node app", () => {
  it("start and stop are idempotent, and stopping leaves no process, timer or socket behind", async () => {
    const before = openResources()
    const sam = new Sam({
      units: [
        nodeService("db", "http-service.mjs", { probes: [httpCheck()] }),
        nodeService("api", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
      ],
    })
    const seen: string[] = []
    const off = sam.events.subscribe((e) => {
      if (e.type === "transition") seen.push(`${e.unit}:${e.to}`)
    })
    const [first, second] = await Promise.all([sam.start(), sam.start()])
    expect(first).toBe(second)
    expect(first.ready).toEqual(["db", "api"])
    const pids = sam.status().units.map((u) => u.pid as number)
    expect(survivors(pids)).toHaveLength(2)
    // A unit of one instance is named by its id alone.
    expect(sam.instanceName("db", 0)).toBe("db")

    await expect(sam.services.start("db")).rejects.toMatchObject({ _tag: "CommandRefused" })
    await expect(sam.agents.start("db")).rejects.toMatchObject({ message: '"db" is a service, not an agent' })
    await expect(sam.services.restart("dv")).rejects.toMatchObject({
      message: 'no service "dv" (did you mean "db"?)',
    })

    await Promise.all([sam.stop(), sam.stop()])
    await sam.stop()
    off()
    expect(survivors(pids)).toEqual([])
    expect(seen.slice(-4)).toEqual(["api:stopping", "api:stopped", "db:stopping", "db:stopped"])
    expect(sam.bus.listenerCount).toBe(0)
    // Stopped for good: a start after it is refused with an exported, typed error.
    const again = await sam.start().catch((error: unknown) => error)
    expect(again).toBeInstanceOf(SamStopping)
    expect(again).toMatchObject({ message: "SAM is stopped; create a new instance to start again" })
    await closePhase()
    expect(added(before, openResources())).toEqual([])
  })
})

describe("createSam and the Effect layer", () => {
  it("start(ids) starts those units, refuses an id SAM does not run, and a later start() starts the rest", async () => {
    const sam = new Sam({
      units: [nodeService("db", "http-service.mjs"), nodeService("web", "http-service.mjs")],
    })
    try {
      await expect(sam.start(["wbe"])).rejects.toThrow('no agent or service "wbe" (did you mean "web"?)')
      expect(sam.status().units.map((u) => u.state)).toEqual(["stopped", "stopped"])
      expect((await sam.start(["db"])).ready).toEqual(["db"])
      expect(sam.unitStatus("web").state).toBe("stopped")
      expect([...(await sam.start()).ready].sort()).toEqual(["db", "web"])
    } finally {
      const pids = sam.status().units.map((u) => u.pid as number)
      await sam.stop()
      expect(survivors(pids)).toEqual([])
    }
  })

  it("createSam takes an inline config object and rejects a bad one with every problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-embed-"))
    try {
      const sam = await createSam(
        {
          runtime: { state_dir: dir },
          services: {
            web: {
              deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
              health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
            },
          },
        },
        { logFile: false },
      )
      expect((await sam.start()).ready).toEqual(["web"])
      const pid = sam.services.status("web").pid as number
      await sam.stop()
      expect(survivors([pid])).toEqual([])
      // Warned as a file's would be: an agent path that does not exist (yet).
      const warned = await createSam(
        { runtime: { state_dir: dir }, agents: { a: { path: "./nope" } } },
        { cwd: dir, logFile: false },
      )
      expect(warned.loaded.warnings).toEqual([`agents.a.path: ${join(dir, "nope")} does not exist (yet)`])
      await warned.stop()
      // A plugin that does not load: createSam resolves, and the plugin list says why (docs/PLUGINS.md).
      mkdirSync(join(dir, "plugins"))
      writeFileSync(join(dir, "plugins", "bad.mjs"), "export default { name: 'bad', setup( }\n")
      const withBad = await createSam({ runtime: { state_dir: dir } }, { cwd: dir, logFile: false })
      expect(withBad.plugins?.list()).toEqual([
        expect.objectContaining({
          name: "bad",
          status: "failed",
          error: expect.stringContaining("syntax error"),
        }),
      ])
      await withBad.stop()
      await expect(
        createSam({ services: { web: { deployment: { mode: "process" }, depends_on: ["nope"] } } }),
      ).rejects.toMatchObject({
        issues: expect.arrayContaining([expect.objectContaining({ path: "services.web.depends_on[0]" })]),
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("createSam plugs in a traffic source (the gateway's seat): a scale down drains through it first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-traffic-"))
    const drained: Array<[string, number, string]> = []
    try {
      const sam = await createSam(
        {
          runtime: { state_dir: dir },
          services: {
            web: {
              deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
              health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
              scaling: { max_instances: 2 },
            },
          },
        },
        {
          logFile: false,
          plugins: false,
          traffic: {
            inFlight: () => 0,
            drain: async (unit, instance) => {
              drained.push([unit, instance, sam.services.status(unit).instances[instance]?.state ?? "gone"])
            },
          },
        },
      )
      await sam.start()
      // A unit that may run several names each instance web#N, web#0 included, as `sam ps` does.
      expect([sam.instanceName("web", 0), sam.instanceName("web", 1)]).toEqual(["web#0", "web#1"])
      await sam.scale("web", 2)
      await sam.until("web", (s) => s.instances.length === 2 && s.ready, 20_000)
      const pids = sam.services.status("web").instances.map((i) => i.pid as number)
      await sam.scale("web", 1)
      expect(drained).toEqual([["web", 1, "running"]])
      await sam.stop()
      expect(survivors(pids)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("samLayer starts SAM for an Effect program and stops it when the scope closes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-layer-"))
    try {
      const config = {
        runtime: { state_dir: dir },
        services: {
          web: {
            deployment: {
              mode: "process" as const,
              command: process.execPath,
              args: [fixture("http-service.mjs")],
            },
          },
        },
      }
      const pid = await Effect.runPromise(
        Effect.gen(function* () {
          const sam = yield* SamService
          return sam.services.status("web").pid as number
        }).pipe(Effect.provide(samLayer(config, { logFile: false }))),
      )
      expect(pid).toBeGreaterThan(0)
      expect(survivors([pid])).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
