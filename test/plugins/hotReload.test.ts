import { rmSync } from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import type { ProbeSpec } from "../../src/runtime/unitSpec.ts"
import {
  type EventLog,
  eventLog,
  http,
  listen,
  serveApi,
  type TempProject,
  type TestServer,
  tempProject,
} from "../support/plugins.ts"
import { nodeService, survivors } from "../support/runtime.ts"

/** A plain-object plugin (no SAM import) with one of each kind of registration. */
const probeKit = (version: number, change: { setupThrows?: boolean; syntaxError?: boolean } = {}) => `
// probe-kit v${version}
export default {
  name: "probe-kit",
  version: "${version}.0.0",
  apiVersion: 1,
  setup(ctx) {
    ${change.setupThrows ? 'throw new Error("cannot start: PROBE_KIT_TOKEN is not set")' : ""}
    ${change.syntaxError ? "const = ;" : ""}
    ctx.capabilities.register("echo", async (input) => {
      await new Promise((resolve) => setImmediate(resolve))
      return { version: ${version}, input }
    })
    ctx.api.get("/version", () => ({ version: ${version} }))
    ctx.healthChecks.register("probe-kit", async () => {
      ctx.events.publish({ type: "probe-kit.checked", version: ${version} })
      return { ok: true, detail: "probe-kit v${version}" }
    })
    ctx.events.subscribe((event) => {
      if (event.type !== "demo.ping") return
      ctx
        .fetch(ctx.config.sink, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ version: ${version}, ping: event.n }),
        })
        .catch((error) => ctx.log.warn("sink unreachable", { error: String(error) }))
    })
  },
}
`

const probeKitCheck: ProbeSpec = {
  type: "probe-kit",
  intervalMs: 100,
  timeoutMs: 1_000,
  failureThreshold: 3,
  successThreshold: 1,
  startPeriodMs: 0,
  role: "readiness",
}

interface World {
  project: TempProject
  sam: Sam
  host: PluginHost
  api: { url: string; close(): Promise<void> }
  sink: TestServer
  pings: Array<{ version: number; ping: number }>
  log: EventLog
  pids: Set<number>
}

let world: World | undefined

const setup = async (options: { units?: boolean } = {}): Promise<World> => {
  const project = tempProject()
  project.write("probe-kit.mjs", probeKit(1))
  const pings: Array<{ version: number; ping: number }> = []
  const sink = await listen((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      pings.push(JSON.parse(Buffer.concat(chunks).toString("utf8")))
      res.writeHead(204).end()
    })
  })
  const sam = new Sam({
    units:
      options.units === false ? [] : [nodeService("api", "http-service.mjs", { probes: [probeKitCheck] })],
  })
  const log = eventLog(sam.bus)
  const host = new PluginHost({
    sam,
    baseDir: project.dir,
    pluginsDir: false,
    entries: [{ path: "./probe-kit.mjs", config: { sink: sink.url } }],
    debounceMs: 20,
  })
  const api = await serveApi(sam, host)
  world = { project, sam, host, api, sink, pings, log, pids: new Set() }
  return world
}

afterEach(async () => {
  if (!world) return
  const w = world
  world = undefined
  for (const u of w.sam.status().units) if (u.pid) w.pids.add(u.pid)
  await w.sam.stop()
  await w.host.stop()
  await w.api.close()
  await w.sink.close()
  w.log.stop()
  w.project.remove()
  expect(survivors(w.pids)).toEqual([])
})

const pingSeen = (w: World, ping: number) =>
  new Promise<{ version: number; ping: number }>((resolve) => {
    const check = () => {
      const hit = w.pings.find((p) => p.ping === ping)
      if (hit) resolve(hit)
      return hit !== undefined
    }
    if (check()) return
    w.sink.server.on("request", (_req, res) => res.on("finish", check))
  })

/** A host with no plugins: list, only the project's plugins/ folder (which may not exist yet). */
const pluginsDirHost = (w: World) =>
  new PluginHost({
    sam: w.sam,
    baseDir: w.project.dir,
    pluginsDir: w.project.path("plugins"),
    entries: [],
    debounceMs: 20,
  })

describe("a plugin's registrations", () => {
  it("a plugin adds a capability, a control-API route, a health check kind and an event sink", async () => {
    const w = await setup()
    await w.host.start()
    const report = await w.sam.start()
    // The unit's readiness check is the plugin's health check kind.
    expect(report.ready).toEqual(["api"])
    expect(await w.log.next((e) => e.type === "probe-kit.checked")).toMatchObject({
      version: 1,
      plugin: "probe-kit",
    })

    const result = await w.sam.invoke("echo", "hello")
    expect(result).toMatchObject({ output: { version: 1, input: "hello" }, agent: "plugin:probe-kit" })

    const list = await http(`${w.api.url}/api/plugins`)
    expect(list.status).toBe(200)
    expect(list.body).toEqual({
      plugins: [
        {
          name: "probe-kit",
          version: "1.0.0",
          status: "running",
          source: "./probe-kit.mjs",
          reloads: 0,
          dependsOn: [],
        },
      ],
    })
    expect(await http(`${w.api.url}/api/plugins/probe-kit/version`)).toEqual({
      status: 200,
      body: { version: 1 },
    })
    expect((await http(`${w.api.url}/api/plugins/probe-kit/nope`)).status).toBe(404)
    expect(await http(`${w.api.url}/api/plugins/probe-kitt/version`)).toMatchObject({
      status: 404,
      body: {
        type: "urn:sam:problem:not-found",
        detail: 'no plugin "probe-kitt" (did you mean "probe-kit"?); GET /api/plugins lists them',
      },
    })

    w.sam.bus.publish({ type: "demo.ping", n: 1 })
    expect(await pingSeen(w, 1)).toEqual({ version: 1, ping: 1 })
  })
})

describe("hot reload of a plugin", () => {
  it("an edit goes live without restarting units (same PIDs) and without dropping a request", async () => {
    const w = await setup()
    await w.host.start()
    await w.sam.start()
    const pid = w.sam.status().units[0]?.pid as number
    expect(pid).toBeGreaterThan(0)
    const transitionsBefore = w.log.of("transition").length

    let reloaded = false
    let started = 0
    let firstCall: () => void = () => {}
    const allStarted = new Promise<void>((resolve) => {
      firstCall = () => {
        if (++started === 4) resolve()
      }
    })
    // Bounded request loops: each stops 25 calls after the swap (or after 5000 calls at most).
    const loop = async (call: () => Promise<number>) => {
      const versions: number[] = []
      const failures: string[] = []
      let after = 0
      for (let i = 0; i < 5_000 && after < 25; i++) {
        try {
          versions.push(await call())
        } catch (error) {
          failures.push(String(error))
        }
        if (i === 0) firstCall()
        if (reloaded) after++
      }
      return { versions, failures }
    }
    const viaCapability = () =>
      w.sam.invoke("echo", "x").then((r) => (r.output as { version: number }).version)
    const viaApi = async () => {
      const res = await http(`${w.api.url}/api/plugins/probe-kit/version`)
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`)
      return (res.body as { version: number }).version
    }
    const loops = Promise.all([loop(viaCapability), loop(viaCapability), loop(viaApi), loop(viaApi)])
    await allStarted

    const swapped = w.log.upcoming((e) => e.type === "plugin.reloaded")
    w.project.write("probe-kit.mjs", probeKit(2))
    expect(await swapped).toMatchObject({ plugin: "probe-kit", from: "1.0.0", to: "2.0.0" })
    reloaded = true
    const results = await loops

    for (const { versions, failures } of results) {
      expect(failures).toEqual([])
      expect(versions).toContain(1)
      expect(versions.at(-1)).toBe(2)
      // Atomic switch: once a caller has seen version 2 it never sees version 1 again.
      expect(versions.slice(versions.indexOf(2))).not.toContain(1)
    }
    // The new health check kind, event sink and capability are the ones in use now.
    // A check that started before the swap finishes on version 1 (calls in flight keep their
    // version); every check after the first on version 2 runs on version 2.
    const checked = (e: { type: string }) => e.type === "probe-kit.checked"
    await w.log.upcoming((e) => checked(e) && (e as { version?: unknown }).version === 2)
    expect(await w.log.upcoming(checked)).toMatchObject({ version: 2 })
    w.sam.bus.publish({ type: "demo.ping", n: 2 })
    expect(await pingSeen(w, 2)).toEqual({ version: 2, ping: 2 })
    expect(w.sam.capabilities.list().find((c) => c.capability === "echo")?.providers).toHaveLength(1)

    // No unit was touched.
    expect(w.sam.status().units[0]?.pid).toBe(pid)
    expect(w.log.of("transition").length).toBe(transitionsBefore)
    expect(w.host.get("probe-kit")).toMatchObject({ version: "2.0.0", status: "running", reloads: 1 })
  })

  it("a plugin file added to plugins/ while SAM runs loads; removed, it unloads", async () => {
    const w = await setup({ units: false })
    const dirHost = pluginsDirHost(w)
    w.project.write("plugins/.keep", "")
    try {
      await dirHost.start()
      expect(dirHost.list()).toEqual([])
      const loaded = w.log.upcoming((e) => e.type === "plugin.loaded" && e.plugin === "late")
      w.project.write(
        "plugins/late.mjs",
        'export default { name: "late", version: "1.0.0", setup(ctx) { ctx.capabilities.register("late_echo", async (x) => x) } }\n',
      )
      await loaded
      expect((await w.sam.invoke("late_echo", "hi")).output).toBe("hi")
      const stopped = w.log.upcoming((e) => e.type === "plugin.stopped" && e.plugin === "late")
      rmSync(w.project.path("plugins", "late.mjs"))
      await stopped
      // The slot goes right after its plugin stopped (the same reconcile).
      for (let i = 0; i < 250 && dirHost.list().length > 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(dirHost.list()).toEqual([])
      expect(w.sam.capabilities.has("late_echo")).toBe(false)
    } finally {
      await dirHost.stop()
    }
  })

  it("a failed plugin's file removed from plugins/ is dropped without a second failure", async () => {
    const w = await setup({ units: false })
    const dirHost = pluginsDirHost(w)
    w.project.write("plugins/broken.mjs", "export default { name: ; }\n")
    try {
      await dirHost.start()
      expect(dirHost.get("broken")?.status).toBe("failed")
      const failures = () =>
        w.log.of("plugin.failed").filter((e) => (e as { plugin?: string }).plugin === "broken").length
      expect(failures()).toBe(1)
      rmSync(w.project.path("plugins", "broken.mjs"))
      for (let i = 0; i < 250 && dirHost.list().length > 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(dirHost.list()).toEqual([])
      expect(failures()).toBe(1)
    } finally {
      await dirHost.stop()
    }
  })

  it("a failed plugin set up again by a later reload runs the file as it is now, not an older version", async () => {
    const w = await setup({ units: false })
    const dirHost = pluginsDirHost(w)
    // 1.0.0 fails its first setup only; 2.0.0 always fails.
    const flaky = (version: string, always: boolean) =>
      `export default { name: "flaky", version: "${version}", setup() { globalThis.flakySetups = (globalThis.flakySetups ?? 0) + 1; if (${always} || globalThis.flakySetups === 1) throw new Error("setup went bang ${version}") } }\n`
    w.project.write("plugins/flaky.mjs", flaky("1.0.0", false))
    try {
      await dirHost.start()
      expect(dirHost.get("flaky")).toMatchObject({ status: "failed", version: "1.0.0" })
      const second = w.log.upcoming(
        (e) => e.type === "plugin.failed" && String((e as { error?: unknown }).error).includes("bang 2.0.0"),
      )
      w.project.write("plugins/flaky.mjs", flaky("2.0.0", true))
      expect(await second).toMatchObject({ plugin: "flaky", version: "2.0.0" })
      // Another file in plugins/: a reconcile sets the failed plugin up again, from its file.
      const other = w.log.upcoming((e) => e.type === "plugin.loaded" && e.plugin === "other")
      const third = w.log.upcoming(
        (e) => e.type === "plugin.failed" && (e as { plugin?: unknown }).plugin === "flaky",
      )
      w.project.write("plugins/other.mjs", 'export default { name: "other", version: "1.0.0", setup() {} }\n')
      await other
      expect(await third).toMatchObject({ version: "2.0.0", error: expect.stringContaining("bang 2.0.0") })
      expect(dirHost.get("flaky")).toMatchObject({ status: "failed", version: "2.0.0" })
    } finally {
      delete (globalThis as { flakySetups?: number }).flakySetups
      await dirHost.stop()
    }
  })

  it("a plugins/ folder made while SAM runs is watched from then on", async () => {
    const w = await setup({ units: false })
    const dirHost = pluginsDirHost(w)
    try {
      await dirHost.start()
      const loaded = w.log.upcoming((e) => e.type === "plugin.loaded" && e.plugin === "later")
      w.project.write(
        "plugins/later.mjs",
        'export default { name: "later", version: "1.0.0", setup(ctx) { ctx.capabilities.register("later_echo", async (x) => x) } }\n',
      )
      await loaded
      expect((await w.sam.invoke("later_echo", "hi")).output).toBe("hi")
    } finally {
      await dirHost.stop()
    }
  })

  it("a broken edit keeps the old version serving and reports why", async () => {
    const w = await setup({ units: false })
    await w.host.start()

    const syntaxFailure = w.log.upcoming((e) => e.type === "plugin.reload-failed")
    w.project.write("probe-kit.mjs", probeKit(2, { syntaxError: true }))
    expect(await syntaxFailure).toMatchObject({
      plugin: "probe-kit",
      version: "1.0.0",
      code: "PLUGIN_IMPORT_FAILED",
    })
    expect((await w.sam.invoke("echo", "x")).output).toMatchObject({ version: 1 })

    const setupFailure = w.log.upcoming((e) => e.type === "plugin.reload-failed")
    w.project.write("probe-kit.mjs", probeKit(3, { setupThrows: true }))
    expect(await setupFailure).toMatchObject({
      code: "PLUGIN_SETUP_FAILED",
      error: expect.stringContaining("PROBE_KIT_TOKEN is not set"),
    })

    // Still version 1, and the failed version's registrations never went live.
    expect((await w.sam.invoke("echo", "x")).output).toMatchObject({ version: 1 })
    expect(await http(`${w.api.url}/api/plugins/probe-kit/version`)).toEqual({
      status: 200,
      body: { version: 1 },
    })
    expect(w.sam.capabilities.list().find((c) => c.capability === "echo")?.providers).toHaveLength(1)
    const status = (await http(`${w.api.url}/api/plugins`)).body as {
      plugins: Array<Record<string, unknown>>
    }
    expect(status.plugins[0]).toMatchObject({ name: "probe-kit", version: "1.0.0", status: "running" })
    expect(String(status.plugins[0]?.error)).toMatch(
      /^reload failed, still serving 1\.0\.0: .*PROBE_KIT_TOKEN/,
    )

    // A fixed edit goes live and clears the error.
    const fixed = w.log.upcoming((e) => e.type === "plugin.reloaded")
    w.project.write("probe-kit.mjs", probeKit(4))
    expect(await fixed).toMatchObject({ from: "1.0.0", to: "4.0.0" })
    expect(w.host.get("probe-kit")).toMatchObject({ status: "running", version: "4.0.0" })
    expect(w.host.get("probe-kit")).not.toHaveProperty("error")
  })
})
