import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"

let sam: ConfiguredSam | undefined
let dir: string | undefined
afterEach(async () => {
  await sam?.stop()
  sam = undefined
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

describe("a config reload applies SAM's own settings too", () => {
  it("runtime.log_level changes the level of SAM's log at once (with or without plugins)", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-reload-settings-"))
    const file = join(dir, "sam.config.json")
    writeFileSync(file, JSON.stringify({ runtime: { log_level: "info" } }))
    sam = await createSam(file, { plugins: false })
    expect(sam.logger?.level).toBe("info")
    expect(sam.logLevel).toBe("info")
    writeFileSync(file, JSON.stringify({ runtime: { log_level: "debug" } }))
    const report = await sam.reloader!.reload()
    expect(report.ok).toBe(true)
    expect(sam.logger?.level).toBe("debug")
    // Agents' loggers too (test/agents/logLevel.test.ts: what they keep at each level).
    expect(sam.logLevel).toBe("debug")
  })

  it("monitoring.alerts: the new rules are evaluated from then on", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-reload-settings-"))
    const file = join(dir, "sam.config.json")
    const alerts = (names: string[]) =>
      JSON.stringify({
        monitoring: { alerts: Object.fromEntries(names.map((n) => [n, { when: "crash_loop" }])) },
      })
    writeFileSync(file, alerts(["first"]))
    sam = await createSam(file, { plugins: false })
    expect(sam.monitoring.alerts.ruleNames).toEqual([{ name: "first", when: "crash_loop" }])
    writeFileSync(file, alerts(["first", "second"]))
    expect((await sam.reloader!.reload()).ok).toBe(true)
    expect(sam.monitoring.alerts.ruleNames.map((r) => r.name)).toEqual(["first", "second"])
  })

  it("the report names the settings applied and those SAM reads only when it starts", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-reload-settings-"))
    const file = join(dir, "sam.config.json")
    writeFileSync(file, JSON.stringify({ api: { port: 7071 }, runtime: { log_level: "info" } }))
    sam = await createSam(file, { plugins: false })
    writeFileSync(
      file,
      JSON.stringify({
        api: { port: 7072 },
        runtime: { log_level: "warn", default_agent_runtime: "process" },
        monitoring: { logs: { max_line_kb: 8 } },
      }),
    )
    const report = await sam.reloader!.reload()
    expect(report).toMatchObject({
      ok: true,
      changed: true,
      settings: ["runtime.log_level"],
      // default_agent_runtime reaches the agents through their specs: the unit diff's to report.
      restartNeeded: ["api.port", "monitoring.logs.max_line_kb"],
    })
    // Until SAM restarts, every reload still names what waits for it; set back, nothing does.
    expect(await sam.reloader!.reload()).toMatchObject({
      changed: false,
      settings: [],
      restartNeeded: ["api.port", "monitoring.logs.max_line_kb"],
    })
    writeFileSync(file, JSON.stringify({ api: { port: 7071 }, runtime: { log_level: "warn" } }))
    expect(await sam.reloader!.reload()).toMatchObject({ changed: true, settings: [], restartNeeded: [] })
  })
})

describe("hot reload watches the layer files beside the main one", () => {
  it("a local-overrides.yaml created while SAM runs is read like an edit", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-reload-layers-"))
    const file = join(dir, "sam.config.json")
    writeFileSync(file, JSON.stringify({ runtime: { log_level: "info" } }))
    sam = await createSam(file, { plugins: false })
    const reloaded = new Promise<void>((resolve) => {
      const off = sam?.bus.subscribe((event) => {
        if (event.type !== "config.reloaded") return
        off?.()
        resolve()
      })
    })
    sam.reloader?.watch()
    writeFileSync(join(dir, "local-overrides.yaml"), "runtime:\n  log_level: debug\n")
    await reloaded
    expect(sam.logger?.level).toBe("debug")
  })
})
