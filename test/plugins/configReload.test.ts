import { afterEach, describe, expect, it } from "vitest"
import { formatIssue } from "../../src/config/errors.ts"
import { type LoadedConfig, loadConfig } from "../../src/config/load.ts"
import type { SamConfig } from "../../src/config/schema.ts"
import { PluginHost } from "../../src/plugins/index.ts"
import {
  type ConfigReloader,
  type ConfigReloadReport,
  configReloaderFor,
} from "../../src/runtime/configReload.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { type EventLog, eventLog, http, serveApi, type TempProject, tempProject } from "../support/plugins.ts"
import { fixture, survivors, transitionsOf } from "../support/runtime.ts"

interface UnitOptions {
  readonly env?: Record<string, string>
  readonly intervalSeconds?: number
}

const service = (options: UnitOptions = {}) => ({
  deployment: {
    mode: "process",
    command: process.execPath,
    args: [fixture("http-service.mjs")],
    ...(options.env ? { env: options.env } : {}),
  },
  // Readiness only, with slack: on a loaded machine a slow answer must not restart anything.
  health_check: {
    endpoint: "/health",
    kind: "readiness",
    interval_seconds: options.intervalSeconds ?? 0.2,
    timeout_seconds: 2,
    failure_threshold: 5,
  },
  restart_policy: { type: "always", backoff_seconds: 0.05 },
  stop: { grace_seconds: 2 },
})

interface World {
  project: TempProject
  sam: Sam
  loaded: LoadedConfig
  reloader: ConfigReloader<SamConfig>
  host: PluginHost
  api: { url: string; close(): Promise<void> }
  log: EventLog
  pids: Set<number>
}

let world: World | undefined

const writeConfig = (project: TempProject, config: Record<string, unknown>) =>
  project.write("sam.json", JSON.stringify(config, null, 2))

const boot = async (config: Record<string, unknown>, options: { watch?: boolean } = {}): Promise<World> => {
  const project = tempProject()
  writeConfig(project, config)
  const loaded = await loadConfig({ configPath: project.path("sam.json") })
  const { units, groups } = unitSpecsFromConfig(loaded.config, loaded.baseDir)
  const sam = new Sam({ units, groups })
  const log = eventLog(sam.bus)
  const host = new PluginHost({
    sam,
    baseDir: loaded.baseDir,
    entries: loaded.config.plugins,
    pluginsDir: false,
    watch: false,
  })
  const reloader = configReloaderFor(sam, loaded, { plugins: host, debounceMs: 20 })
  host.reloadConfig = () => reloader.reload()
  const api = await serveApi(sam, host)
  world = { project, sam, loaded, reloader, host, api, log, pids: new Set() }
  await host.start()
  const report = await sam.start()
  expect(report.notReady).toEqual([])
  if (options.watch !== false) reloader.watch()
  return world
}

afterEach(async () => {
  if (!world) return
  const w = world
  world = undefined
  w.reloader.stop()
  for (const e of w.log.events) if (e.type === "transition" && typeof e.pid === "number") w.pids.add(e.pid)
  await w.sam.stop()
  await w.host.stop()
  await w.api.close()
  w.log.stop()
  w.project.remove()
  expect(survivors(w.pids)).toEqual([])
})

/** Starts and stops of `unit` (readiness flips of a running instance left out). */
const lifecycle = (events: ReadonlyArray<SamEvent>, unit: string) =>
  transitionsOf(events, unit).filter((t) => !/^running\.\w+->running\.\w+$/.test(t))

const pidOf = (w: World, id: string) => w.sam.unitStatus(id).pid as number
const ready = (w: World, id: string) => w.sam.until(id, (s) => s.state === "running" && s.ready)

describe("config hot reload", () => {
  it("an edit adds, removes, restarts and reconfigures exactly the units it changed", async () => {
    const w = await boot({
      services: {
        keep: service(),
        tune: service(),
        drop: service(),
        change: service({ env: { MODE: "a" } }),
      },
    })
    const pids = Object.fromEntries(["keep", "tune", "drop", "change"].map((id) => [id, pidOf(w, id)]))
    for (const pid of Object.values(pids)) w.pids.add(pid)
    const mark = w.log.events.length

    const reloaded = w.log.upcoming((e) => e.type === "config.reloaded")
    writeConfig(w.project, {
      services: {
        keep: service(),
        tune: service({ intervalSeconds: 5 }),
        change: service({ env: { MODE: "b" } }),
        fresh: service(),
      },
    })
    expect(await reloaded).toMatchObject({
      changed: true,
      added: ["fresh"],
      removed: ["drop"],
      restarted: ["change"],
      reconfigured: ["tune"],
      unchanged: ["keep"],
      failures: [],
    })
    await Promise.all([ready(w, "fresh"), ready(w, "change")])

    const since = w.log.events.slice(mark)
    // Untouched and reconfigured units: not a single transition, same process.
    expect(lifecycle(since, "keep")).toEqual([])
    expect(lifecycle(since, "tune")).toEqual([])
    expect(pidOf(w, "keep")).toBe(pids.keep)
    expect(pidOf(w, "tune")).toBe(pids.tune)
    expect(w.sam.unitSpecs().find((s) => s.id === "tune")?.probes[0]?.intervalMs).toBe(5_000)
    // The removed unit was stopped and forgotten.
    expect(lifecycle(since, "drop")).toEqual(["running.ready->stopping", "stopping->stopped"])
    expect(w.sam.unitSpecs().some((s) => s.id === "drop")).toBe(false)
    expect(survivors([pids.drop as number])).toEqual([])
    // The changed unit was stopped and started again as a new process.
    expect(lifecycle(since, "change")).toEqual([
      "running.ready->stopping",
      "stopping->stopped",
      "stopped->starting",
      "starting->running.unready",
    ])
    expect(pidOf(w, "change")).not.toBe(pids.change)
    // Each stop says why: the changed unit was not removed.
    const stopping = (id: string) =>
      since.find((e) => e.type === "transition" && e.unit === id && e.to === "stopping")
    expect(stopping("change")).toMatchObject({ reason: "its config changed: restarting with the new one" })
    expect(stopping("drop")).toMatchObject({ reason: "removed from the config" })
    expect(lifecycle(since, "fresh")).toEqual(["stopped->starting", "starting->running.unready"])
  })

  it("an invalid edit changes nothing and reports every error", async () => {
    const w = await boot({ services: { one: service(), two: service() } })
    const pids = [pidOf(w, "one"), pidOf(w, "two")]
    const mark = w.log.events.length
    const before = w.reloader.config

    const rejected = w.log.upcoming((e) => e.type === "config.invalid")
    writeConfig(w.project, {
      services: {
        one: { ...service(), restart_policy: "sometimes" },
        two: { ...service(), scaling: { min_instances: "many" } },
        three: service(),
      },
    })
    const event = (await rejected) as unknown as { issues: Array<{ path: string }>; message: string }
    expect(event.issues.map((i) => i.path).sort()).toEqual([
      "services.one.restart_policy",
      "services.two.scaling.min_instances",
    ])
    expect(event.message).toMatch(/^config reload rejected, still running the previous config:\n/)

    expect(w.reloader.config).toBe(before)
    expect(w.sam.unitSpecs().some((s) => s.id === "three")).toBe(false)
    expect([pidOf(w, "one"), pidOf(w, "two")]).toEqual(pids)
    expect(w.log.events.slice(mark).filter((e) => e.type === "transition")).toEqual([])

    // The control API reports the same problems.
    const res = await http(`${w.api.url}/api/config/reload`, { method: "POST" })
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({
      ok: false,
      issues: expect.arrayContaining([expect.objectContaining({ path: "services.one.restart_policy" })]),
    })
  })

  it("an empty, unparsable or out-of-bounds file changes nothing: reload() says why, units keep their PIDs", async () => {
    const w = await boot({ services: { one: service(), two: service() } }, { watch: false })
    const pids = [pidOf(w, "one"), pidOf(w, "two")]
    const mark = w.log.events.length
    const before = w.reloader.config
    const file = w.project.path("sam.json")
    const valid = JSON.stringify({ services: { one: service(), two: service() } }, null, 2)
    const cases: Array<[string, string]> = [
      ["", `${file} the config file is empty (write {} for a config with no settings)`],
      ["\n  \n", `${file} the config file is empty (write {} for a config with no settings)`],
      ['{ "services": {}, }', `${file}:1:17 invalid JSON: trailing comma before "}" (JSON allows none)`],
      [
        valid.replace('"grace_seconds": 2', '"grace_seconds": 1e308'),
        "expected at most 86400 seconds (1 day)",
      ],
      [
        valid.replace(`"command": ${JSON.stringify(process.execPath)}`, '"command": ""'),
        "expected a non-empty string",
      ],
    ]
    for (const [content, problem] of cases) {
      w.project.write("sam.json", content)
      const report = await w.reloader.reload()
      expect(report.ok, JSON.stringify(content)).toBe(false)
      if (report.ok) continue
      expect(report.message).toMatch(/^config reload rejected, still running the previous config:\n/)
      expect(report.issues.map(formatIssue).join("\n")).toContain(problem)
    }
    expect(w.reloader.config).toBe(before)
    expect([pidOf(w, "one"), pidOf(w, "two")]).toEqual(pids)
    expect(w.log.events.slice(mark).filter((e) => e.type === "transition")).toEqual([])

    // Once the file is whole again, the reload goes through and finds nothing to change.
    w.project.write("sam.json", valid)
    expect(await w.reloader.reload()).toMatchObject({ ok: true, changed: false, unchanged: ["one", "two"] })
    expect([pidOf(w, "one"), pidOf(w, "two")]).toEqual(pids)
  })

  it("POST /api/config/reload applies unit and plugin changes on demand", async () => {
    const w = await boot({ services: { one: service() } }, { watch: false })
    w.project.write(
      "hello.mjs",
      `export default {
  name: "hello",
  version: "1.0.0",
  setup(ctx) {
    ctx.capabilities.register("greet", (who) => ctx.config.greeting + ", " + who)
  },
}
`,
    )
    const pid = pidOf(w, "one")
    writeConfig(w.project, {
      services: { one: service() },
      plugins: [{ path: "./hello.mjs", config: { greeting: "Hi" } }],
    })
    const first = await http(`${w.api.url}/api/config/reload`, { method: "POST" })
    expect(first.status).toBe(200)
    // Loading a plugin is a change, named in the report.
    expect(first.body).toMatchObject({ ok: true, changed: true, plugins: ["hello"], unchanged: ["one"] })
    expect((await w.sam.invoke("greet", "Ada")).output).toBe("Hi, Ada")

    writeConfig(w.project, {
      services: { one: service() },
      plugins: [{ path: "./hello.mjs", config: { greeting: "Hello" } }],
    })
    const second = (await http(`${w.api.url}/api/config/reload`, { method: "POST" }))
      .body as ConfigReloadReport
    expect(second).toMatchObject({ ok: true, changed: true, plugins: ["hello"] })
    expect((await w.sam.invoke("greet", "Ada")).output).toBe("Hello, Ada")
    expect(w.host.get("hello")).toMatchObject({ status: "running", reloads: 0 })

    writeConfig(w.project, { services: { one: service() } })
    expect((await http(`${w.api.url}/api/config/reload`, { method: "POST" })).body).toMatchObject({
      plugins: ["hello"],
    })
    expect(w.host.get("hello")).toBeUndefined()
    expect(w.sam.capabilities.has("greet")).toBe(false)
    expect(pidOf(w, "one")).toBe(pid)
  })
})
