import { afterEach, describe, expect, it } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { eventLog, http, serveApi, tempProject } from "../support/plugins.ts"
import { nodeService } from "../support/runtime.ts"

let cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

describe("diagnostics sinks", () => {
  it("log, alert and metric sinks receive what SAM emits; a throwing sink fails only its plugin", async () => {
    const project = tempProject()
    project.write(
      "plugins/collector.mjs",
      `const seen = { logs: [], alerts: [], metrics: [] }
export default {
  name: "collector",
  version: "1.0.0",
  setup(ctx) {
    ctx.diagnostics.logs({ write: (record) => { if (record.source.startsWith("unit:")) seen.logs.push(record) } })
    ctx.diagnostics.alerts({ notify: (alert) => seen.alerts.push(alert) })
    ctx.diagnostics.metrics({ record: (samples) => seen.metrics.push(...samples) })
    ctx.api.get("/seen", () => seen)
  },
}
`,
    )
    project.write(
      "plugins/fragile.mjs",
      `export default {
  name: "fragile",
  version: "1.0.0",
  setup(ctx) {
    ctx.diagnostics.metrics({ record: () => { throw new Error("exporter offline") } })
  },
}
`,
    )
    // A unit that says one line on stderr and exits (never restarted).
    const unit = nodeService("api", "exit.mjs", {
      env: { EXIT_MESSAGE: "disk almost full", EXIT_CODE: "0" },
      restart: { type: "temporary" },
    })
    const sam = new Sam({ units: [unit] })
    const log = eventLog(sam.bus)
    // No restart: the failed plugin must still be failed when looked at (the restart is isolation.test.ts's).
    const host = new PluginHost({ sam, baseDir: project.dir, watch: false, restart: false })
    cleanup.push(
      () => project.remove(),
      () => log.stop(),
      () => sam.stop(),
      () => host.stop(),
    )
    await host.start()
    await sam.start()
    await sam.until("api", (s) => s.state === "stopped" || s.state === "crashed")

    sam.bus.publish({
      type: "supervisor",
      action: "give-up",
      unit: "api#0",
      group: "services",
      detail: "5 restarts in 60s",
    })
    const at = new Date().toISOString()
    host.diagnostics.emitMetrics([{ name: "sam_units_running", type: "gauge", value: 3, at }])

    const api = await serveApi(sam, host)
    cleanup.push(() => api.close())
    const collected = (await http(`${api.url}/api/plugins/collector/seen`)).body as {
      logs: unknown[]
      alerts: unknown[]
      metrics: unknown[]
    }
    expect(collected.logs).toEqual([
      { at: expect.any(String), level: "warn", source: "unit:api#0", message: "disk almost full" },
    ])
    expect(collected.metrics).toEqual([{ name: "sam_units_running", type: "gauge", value: 3, at }])

    expect(host.get("fragile")).toMatchObject({ status: "failed" })
    expect(host.get("fragile")?.error).toContain("its metrics sink threw: exporter offline")
    expect(host.get("collector")?.status).toBe("running")
    // The failure is itself an alert, which the healthy sink received.
    expect(collected.alerts).toMatchObject([
      { key: "supervisor:give-up:api#0", state: "firing", severity: "critical", title: "api#0 crashed" },
      { key: "plugin:failed:fragile", severity: "warning", title: "plugin fragile failed" },
    ])
    expect(log.of("plugin.failed")).toMatchObject([{ plugin: "fragile" }])
  })
})
