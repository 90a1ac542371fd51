// cron_restart in the config: a schedule croner reads becomes the unit's spec; one it cannot read
// is refused naming the unit's key, croner's reason and what a schedule looks like.
import { describe, expect, it } from "vitest"
import { loadConfig } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { tempDir } from "./tempDir.ts"

const load = async (cron: string) => {
  const dir = await tempDir({
    "sam.yaml": [
      "services:",
      "  web:",
      `    deployment: { mode: process, command: ${JSON.stringify(process.execPath)} }`,
      `    cron_restart: ${JSON.stringify(cron)}`,
      "agents:",
      `  helper: { path: /, cron_restart: "@daily" }`,
      "",
    ].join("\n"),
  })
  return loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
}

describe("cron_restart in the config", () => {
  it("is the unit's schedule: five fields, six with seconds first, or a nickname", async () => {
    for (const cron of ["0 3 * * *", "*/30 * * * * *", "0 9 * * MON-FRI"]) {
      const loaded = await load(cron)
      expect(loaded.warnings).toEqual([])
      const specs = unitSpecsFromConfig(loaded.config).units
      expect(specs.find((s) => s.id === "web")?.cronRestart).toBe(cron)
      expect(specs.find((s) => s.id === "helper")?.cronRestart).toBe("@daily")
    }
  })

  it("refuses a schedule croner cannot read, naming the key and why", async () => {
    const error = await load("61 * * * *").catch((e: unknown) => String(e))
    expect(error).toMatch(
      /services\.web\.cron_restart: is not a cron schedule: .+; five fields \(minute hour day month weekday, "0 3 \* \* \*"\) or six with seconds first/,
    )
    expect(await load("every day").catch((e: unknown) => String(e))).toContain(
      "services.web.cron_restart: is not a cron schedule",
    )
  })
})
