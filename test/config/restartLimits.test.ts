import { describe, expect, it } from "vitest"
import type { ConfigError } from "../../src/config/errors.ts"
import { loadConfig } from "../../src/config/load.ts"
import { describeRestartLimits } from "../../src/config/restartLimits.ts"
import { groupSpecs } from "../../src/runtime/fromConfig.ts"
import { tempDir } from "./tempDir.ts"

// A unit's own restart intensity (max_restarts in window_seconds, then on_exhausted) and its
// supervision group's: what the config decodes to, what the runtime receives, what validate says.

const load = async (yaml: string) =>
  loadConfig({ cwd: await tempDir({ "sam.yaml": yaml }), configPath: "sam.yaml", env: {} })

const rows = (...lines: Array<string>) => `${lines.join("\n")}\n`
const ext = (port: number) => `deployment: { mode: external, url: 'http://localhost:${port}' }`

describe("restart_policy.on_exhausted and max_backoff_seconds", () => {
  it("default to retry and 300 s, for the short form and the object form", async () => {
    const { config } = await load(
      rows(
        "services:",
        `  a: { ${ext(1)}, restart_policy: on-failure }`,
        `  b: { ${ext(2)}, restart_policy: {} }`,
      ),
    )
    for (const id of ["a", "b"]) {
      expect(config.services[id]!.restart_policy).toMatchObject({
        on_exhausted: "retry",
        max_backoff_seconds: 300,
      })
    }
  })

  it("give_up is decoded as written; anything else is an error listing the choices", async () => {
    const { config } = await load(
      rows("services:", `  a: { ${ext(1)}, restart_policy: { on_exhausted: give_up } }`),
    )
    expect(config.services.a!.restart_policy.on_exhausted).toBe("give_up")
    const error = await load(
      rows("services:", `  a: { ${ext(1)}, restart_policy: { on_exhausted: forever } }`),
    ).catch((e: unknown) => e)
    expect((error as ConfigError).format()).toBe(
      'sam.yaml:2:99 services.a.restart_policy.on_exhausted: expected "retry" | "give_up", found "forever"',
    )
  })

  it("setting it on a unit that is never restarted is a warning: it has no effect", async () => {
    const { warnings } = await load(
      rows("services:", `  a: { ${ext(1)}, restart_policy: { type: never, on_exhausted: give_up } }`),
    )
    expect(warnings).toEqual([
      "services.a.restart_policy.on_exhausted: has no effect, the unit is never restarted",
    ])
  })
})

describe("supervision groups", () => {
  it("the implicit groups services and agents have no group limit unless declared", async () => {
    const { config } = await load("{}\n")
    expect(config.supervision.groups).toEqual({
      services: { strategy: "one_for_one", max_restarts: null, window_seconds: 60 },
      agents: { strategy: "one_for_one", max_restarts: null, window_seconds: 60 },
    })
    expect(groupSpecs(config)).toEqual([
      { name: "services", strategy: "one_for_one", maxRestarts: undefined, windowMs: 60_000 },
      { name: "agents", strategy: "one_for_one", maxRestarts: undefined, windowMs: 60_000 },
    ])
  })

  it("a declared group, also one named services, gets OTP's defaults: 30 restarts in 60 s", async () => {
    const { config } = await load(
      rows(
        "supervision:",
        "  groups:",
        "    services: { strategy: one_for_all }",
        "    storage: { window_seconds: 10 }",
      ),
    )
    expect(config.supervision.groups).toEqual({
      services: { strategy: "one_for_all", max_restarts: 30, window_seconds: 60 },
      agents: { strategy: "one_for_one", max_restarts: null, window_seconds: 60 },
      storage: { strategy: "one_for_one", max_restarts: 30, window_seconds: 10 },
    })
    expect(groupSpecs(config).find((g) => g.name === "storage")).toEqual({
      name: "storage",
      strategy: "one_for_one",
      maxRestarts: 30,
      windowMs: 10_000,
    })
  })
})

describe("describeRestartLimits: one line per unit, as sam validate prints them", () => {
  it("names the unit's own intensity and its group's", async () => {
    const { config } = await load(
      rows(
        "supervision: { groups: { storage: { strategy: rest_for_one, max_restarts: 3, window_seconds: 20 } } }",
        "services:",
        `  db: { ${ext(1)}, group: storage, restart_policy: { max_restarts: 1, on_exhausted: give_up } }`,
        `  api: { ${ext(2)} }`,
        `  off: { ${ext(3)}, enabled: false }`,
        "agents:",
        "  once: { path: /a, restart_policy: never }",
        "  flaky: { path: /b, restart_policy: { type: on-failure, window_seconds: 5, max_backoff_seconds: 30 } }",
      ),
    )
    expect(describeRestartLimits(config)).toEqual([
      "services.db: permanent, 1 restart in 60s, then give up; group storage (rest_for_one): 3 restarts in 20s",
      "services.api: permanent, 5 restarts in 60s, then retry every 300s; group services: no group limit (implicit group)",
      "services.off: disabled",
      "agents.once: temporary, never restarted; group agents: no group limit (implicit group)",
      "agents.flaky: transient, 5 restarts in 5s, then retry every 30s; group agents: no group limit (implicit group)",
    ])
  })
})

describe("monitoring.logs.max_line_kb", () => {
  it("defaults to 64 and takes a positive integer", async () => {
    expect((await load("{}\n")).config.monitoring.logs).toEqual({
      max_lines_per_unit: 1000,
      max_line_kb: 64,
      max_file_mb: 10,
      max_files: 5,
      compress: false,
    })
    expect(
      (await load("monitoring: { logs: { max_line_kb: 8 } }\n")).config.monitoring.logs.max_line_kb,
    ).toBe(8)
    const error = await load("monitoring: { logs: { max_line_kb: 0 } }\n").catch((e: unknown) => e)
    expect((error as ConfigError).format()).toBe(
      "sam.yaml:1:36 monitoring.logs.max_line_kb: expected a value greater than or equal to 1, found 0",
    )
  })
})

describe("monitoring.logs rotation and monitoring.crash_reports", () => {
  it("default to 10 MiB × 5 files uncompressed, and 100 reports per unit for 30 days", async () => {
    const { monitoring } = (await load("{}\n")).config
    expect(monitoring.crash_reports).toEqual({ max_per_unit: 100, max_age_days: 30 })
    const set = await load(
      "monitoring: { logs: { max_file_mb: 0.5, max_files: 0, compress: true }, crash_reports: { max_per_unit: 3, max_age_days: 0.5 } }\n",
    )
    expect(set.config.monitoring.logs).toMatchObject({ max_file_mb: 0.5, max_files: 0, compress: true })
    expect(set.config.monitoring.crash_reports).toEqual({ max_per_unit: 3, max_age_days: 0.5 })
  })

  it("refuse sizes, counts and ages that make no sense", async () => {
    const problems = async (yaml: string) =>
      ((await load(yaml).catch((e: unknown) => e)) as ConfigError).format()
    expect(await problems("monitoring: { logs: { max_file_mb: 0 } }\n")).toContain(
      "monitoring.logs.max_file_mb: expected a value greater than or equal to 0.0009765625, found 0",
    )
    expect(await problems("monitoring: { logs: { max_files: -1 } }\n")).toContain(
      "monitoring.logs.max_files: expected a value greater than or equal to 0, found -1",
    )
    expect(await problems("monitoring: { logs: { compress: yes } }\n")).toContain("monitoring.logs.compress")
    expect(await problems("monitoring: { crash_reports: { max_per_unit: 0 } }\n")).toContain(
      "monitoring.crash_reports.max_per_unit: expected a value greater than or equal to 1, found 0",
    )
    expect(await problems("monitoring: { crash_reports: { max_age_days: 0 } }\n")).toContain(
      "monitoring.crash_reports.max_age_days: expected a value greater than 0, found 0",
    )
  })
})
