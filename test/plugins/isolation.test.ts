import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { PluginHost, type PluginHostOptions } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { type EventLog, eventLog, type TempProject, tempProject } from "../support/plugins.ts"

const plugin = (name: string, body: string, extra = "") => `export default {
  name: ${JSON.stringify(name)},
  version: "1.0.0",
  ${extra}
  async setup(ctx) {
    ${body}
  },
}
`

let cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const start = async (
  files: Record<string, string>,
  options: Partial<PluginHostOptions> = {},
): Promise<{ sam: Sam; host: PluginHost; log: EventLog; project: TempProject }> => {
  const project = tempProject()
  for (const [file, source] of Object.entries(files)) project.write(file, source)
  const sam = new Sam({ units: [] })
  const log = eventLog(sam.bus)
  const host = new PluginHost({ sam, baseDir: project.dir, ...options })
  cleanup.push(
    () => project.remove(),
    () => log.stop(),
    () => host.stop(),
  )
  await host.start()
  return { sam, host, log, project }
}

describe("failure isolation", () => {
  it("a plugin whose setup throws is failed with the error while the others run", async () => {
    const { host, log, sam } = await start({
      "plugins/broken.mjs": plugin("broken", 'throw new Error("database url missing")'),
      "plugins/fine.mjs": plugin("fine", 'ctx.capabilities.register("fine_work", () => "ok")'),
    })
    expect(host.get("broken")).toMatchObject({
      status: "failed",
      error: 'plugin "broken" 1.0.0: setup failed: database url missing',
    })
    expect(host.get("fine")?.status).toBe("running")
    expect((await sam.invoke("fine_work", null)).output).toBe("ok")
    expect(log.of("plugin.failed")).toMatchObject([{ plugin: "broken", code: "PLUGIN_SETUP_FAILED" }])
  })

  it("a setup that hangs past the timeout fails the plugin and what it registered is withdrawn", async () => {
    const { host, sam } = await start(
      {
        "plugins/stuck.mjs": plugin(
          "stuck",
          `ctx.capabilities.register("stuck_work", () => "never served")
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve))`,
        ),
      },
      { setupTimeoutMs: 100 },
    )
    expect(host.get("stuck")).toMatchObject({ status: "failed" })
    expect(host.get("stuck")?.error).toContain("setup did not finish within 100 ms")
    expect(sam.capabilities.has("stuck_work")).toBe(false)
    expect(await sam.invoke("stuck_work", null).catch((e: unknown) => e)).toMatchObject({
      reason: "unavailable",
      message: expect.stringMatching(
        /^capability "stuck_work" is unavailable: plugin stuck offers it but is failed: .*setup did not finish within 100 ms/,
      ),
    })
  })

  it("a throwing event listener fails its own plugin, not SAM or its neighbours", async () => {
    const { host, log, sam } = await start({
      "plugins/grumpy.mjs": plugin(
        "grumpy",
        `ctx.capabilities.register("grumpy_work", () => "ok")
    ctx.events.subscribe((event) => {
      if (event.type === "demo.boom") throw new Error("cannot handle " + event.type)
    })`,
      ),
      "plugins/calm.mjs": plugin("calm", 'ctx.capabilities.register("calm_work", () => "ok")'),
    })
    const failed = log.upcoming((e) => e.type === "plugin.failed")
    sam.bus.publish({ type: "demo.boom" })
    expect(await failed).toMatchObject({ plugin: "grumpy", code: "PLUGIN_HOOK_FAILED" })
    expect(host.get("grumpy")?.error).toContain("its event listener threw: cannot handle demo.boom")
    expect(sam.capabilities.has("grumpy_work")).toBe(false)
    expect(host.get("calm")?.status).toBe("running")
    expect((await sam.invoke("calm_work", null)).output).toBe("ok")
  })

  it("a plugin whose hook throws is supervised: set up again after a backoff, crashed past its intensity", async () => {
    const { host, log, sam } = await start(
      {
        "plugins/flaky.mjs": plugin(
          "flaky",
          `ctx.capabilities.register("flaky_work", () => "ok")
    ctx.events.subscribe((event) => {
      if (event.type === "demo.boom") throw new Error("boom")
    })`,
        ),
      },
      { restart: { maxRestarts: 1, windowMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 10 } },
    )
    const restarting = log.upcoming((e) => e.type === "plugin.restarting")
    const back = log.upcoming((e) => e.type === "plugin.loaded" && e.plugin === "flaky")
    sam.bus.publish({ type: "demo.boom" })
    expect(await restarting).toMatchObject({ plugin: "flaky" })
    await back
    expect(host.get("flaky")?.status).toBe("running")
    expect((await sam.invoke("flaky_work", null)).output).toBe("ok")

    const crashed = log.upcoming((e) => e.type === "plugin.crashed")
    sam.bus.publish({ type: "demo.boom" })
    expect(await crashed).toMatchObject({ plugin: "flaky", detail: "gave up after 1 restarts in 60s" })
    expect(host.get("flaky")).toMatchObject({ status: "failed" })
    expect(host.get("flaky")?.error).toContain(
      "gave up after 1 restarts in 60s (save a fixed version to reload it)",
    )
    expect(sam.capabilities.has("flaky_work")).toBe(false)
    // A caller is told which plugin offers it and why it is down, not that nobody does.
    expect(await sam.invoke("flaky_work", null).catch((e: unknown) => e)).toMatchObject({
      _tag: "CapabilityError",
      reason: "unavailable",
      message: expect.stringMatching(
        /^capability "flaky_work" is unavailable: plugin flaky offers it but is failed: plugin "flaky" 1\.0\.0: its event listener threw: boom; .*gave up after 1 restarts in 60s \(save a fixed version to reload it\)$/,
      ),
    })
  })

  it("a call while a plugin is in its restart backoff says which plugin offers it, why it failed and when it retries", async () => {
    const { host, log, sam } = await start(
      {
        "plugins/hooky.mjs": plugin(
          "hooky",
          `ctx.capabilities.register("hooky_ping", () => "pong")
    ctx.events.subscribe((event) => {
      if (event.type === "demo.boom") throw new Error("boom")
    })`,
        ),
      },
      { restart: { maxRestarts: 3, windowMs: 60_000, backoffBaseMs: 60_000, backoffMaxMs: 60_000 } },
    )
    expect((await sam.invoke("hooky_ping", {})).output).toBe("pong")
    const restarting = log.upcoming((e) => e.type === "plugin.restarting")
    sam.bus.publish({ type: "demo.boom" })
    await restarting
    const error = await sam.invoke("hooky_ping", {}).catch((e: unknown) => e)
    expect(error).toMatchObject({
      _tag: "CapabilityError",
      capability: "hooky_ping",
      reason: "unavailable",
      message: expect.stringMatching(
        /^capability "hooky_ping" is unavailable: plugin hooky offers it but is failed: plugin "hooky" 1\.0\.0: its event listener threw: boom; the plugin was stopped; restarting in \d+ ms$/,
      ),
    })
    // Stopped by an operator, it says so.
    await host.unload("hooky")
    expect(await sam.invoke("hooky_ping", {}).catch((e: unknown) => e)).toMatchObject({
      reason: "unavailable",
      message: 'capability "hooky_ping" is unavailable: plugin hooky offers it but is stopped',
    })
    // A capability nobody ever offered is still not found.
    expect(await sam.invoke("hooky_pong", {}).catch((e: unknown) => e)).toMatchObject({
      reason: "not_found",
      message: 'no agent or plugin offers capability "hooky_pong"',
    })
  })

  it("a throwing timer callback fails its plugin", async () => {
    const { host, log } = await start({
      "plugins/ticker.mjs": plugin(
        "ticker",
        'ctx.timers.setTimeout(() => { throw new Error("tick failed") }, 1)',
      ),
    })
    await log.next((e) => e.type === "plugin.failed")
    expect(host.get("ticker")?.error).toContain("its timer (timeout 1 ms) threw: tick failed")
  })

  it("a plugin written for another plugin API version is refused with a clear message", async () => {
    const { host } = await start({ "plugins/future.mjs": plugin("future", "", "apiVersion: 2,") })
    expect(host.get("future")).toMatchObject({ status: "failed" })
    expect(host.get("future")?.error).toBe(
      'plugin "future" 1.0.0 targets SAM plugin API version 2, but this SAM supports version 1; ' +
        "use a release of the plugin built for API 1 or upgrade SAM",
    )
  })

  it("a module that is not a plugin is reported with what to export", async () => {
    const { host } = await start({ "plugins/helper.mjs": "export const x = 1\n" })
    expect(host.get("helper")?.error).toBe(
      "plugins/helper.mjs is not a SAM plugin: it has no default export object; export default definePlugin({ name, version, setup })",
    )
  })

  it("an invalid plugin config is refused with the path of every problem, as written in the config (plugins[i].config)", async () => {
    const webhook = fileURLToPath(new URL("../../plugins/webhook-sink", import.meta.url))
    const { host } = await start(
      {},
      { entries: [{ path: "./nothing-here.mjs" }, { path: webhook, config: { url: 42, batchsize: 3 } }] },
    )
    expect(host.get("webhook-sink")).toMatchObject({ status: "failed" })
    expect(host.get("webhook-sink")?.error).toBe(
      'plugin "webhook-sink" has an invalid config: plugins[1].config.batchsize: unknown key "batchsize" (did you mean "batch_size"?); plugins[1].config.url: expected a string, found 42',
    )
  })

  it("a health check kind or gateway route held by someone else is a conflict", async () => {
    const { host } = await start({
      "plugins/a.mjs": plugin("a", 'ctx.gateway.route({ prefix: "/docs", target: "http://127.0.0.1:1" })'),
      "plugins/b.mjs": plugin("b", 'ctx.gateway.route({ prefix: "/docs/", target: "http://127.0.0.1:2" })'),
      "plugins/c.mjs": plugin(
        "c",
        'ctx.healthChecks.register("http", async () => ({ ok: true, detail: "" }))',
      ),
    })
    expect(host.get("a")?.status).toBe("running")
    expect(host.get("b")?.error).toContain('gateway route "/docs" is already registered by plugin "a"')
    expect(host.get("c")?.error).toContain('health check kind "http" is already provided by SAM (built in)')
    expect(host.gateway.match("/docs/intro")).toMatchObject({ owner: "a", target: "http://127.0.0.1:1" })
  })
})

describe("plugin names", () => {
  it("a second plugin with a name already taken is refused; file names do not matter", async () => {
    const { host } = await start({
      "plugins/alpha.mjs": plugin("beta", ""),
      "plugins/beta.mjs": plugin("gamma", ""),
      "plugins/copy.mjs": plugin("beta", ""),
    })
    expect(host.list().map((p) => [p.name, p.status])).toEqual([
      ["beta", "running"],
      ["gamma", "running"],
      ["copy", "failed"],
    ])
    expect(host.list()[2]?.error).toBe(
      'plugin name "beta" is used by both plugins/alpha.mjs and plugins/copy.mjs; rename one',
    )
  })
})

describe("loading order", () => {
  it("plugins set up after the plugins they depend on; a missing dependency is reported", async () => {
    const { host, log } = await start({
      "plugins/alpha.mjs": plugin("alpha", "", 'dependsOn: ["beta"],'),
      "plugins/beta.mjs": plugin("beta", ""),
      "plugins/gamma.mjs": plugin("gamma", "", 'dependsOn: ["betta"],'),
    })
    expect(log.of("plugin.loaded").map((e) => (e as { plugin?: unknown }).plugin)).toEqual(["beta", "alpha"])
    expect(host.get("gamma")).toMatchObject({
      status: "failed",
      error: 'plugin "gamma" depends on "betta" (did you mean "beta"?), which is not configured or not found',
    })
  })

  it("unloading a plugin stops the plugins that depend on it first", async () => {
    const { host, log } = await start({
      "plugins/base.mjs": plugin("base", ""),
      "plugins/addon.mjs": plugin("addon", "", 'dependsOn: ["base"],'),
    })
    await host.unload("base")
    expect(log.of("plugin.stopped").map((e) => (e as { plugin?: unknown }).plugin)).toEqual(["addon", "base"])
    expect(host.list().map((p) => [p.name, p.status])).toEqual([
      ["addon", "stopped"],
      ["base", "stopped"],
    ])
  })

  it("folder plugins and config entries load together; a config entry can disable a folder plugin", async () => {
    const { host } = await start(
      {
        "plugins/solo.mjs": plugin("solo", ""),
        "plugins/kit/index.mjs": plugin("kit", ""),
        "plugins/off.mjs": plugin("off", ""),
        "extra/entry.mjs": plugin("entry", ""),
      },
      { entries: [{ path: "./extra/entry.mjs" }, { path: "./plugins/off.mjs", enabled: false }] },
    )
    expect(host.list().map((p) => [p.name, p.status])).toEqual([
      ["entry", "running"],
      ["off", "stopped"],
      ["kit", "running"],
      ["solo", "running"],
    ])
  })
})
