import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { loadConfig } from "../../src/config/load.ts"
import { tempDir } from "./tempDir.ts"

// Values the schema refuses although their type is right: empty strings where something must be
// named, unknown signal names, and durations no one means (or that would overflow a timer).

const failure = async (yaml: string): Promise<Array<string>> => {
  const dir = await tempDir({ "sam.yaml": yaml })
  const error = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} }).catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.format().split("\n")
}

const rows = (...lines: Array<string>) => `${lines.join("\n")}\n`

describe("strings that name something must not be empty", () => {
  it("deployment command, image, url, agent path, cwd, engine, health check and plugin entries", async () => {
    expect(
      await failure(
        rows(
          "services:",
          '  p: { deployment: { mode: process, command: "", cwd: "" } }',
          '  c: { deployment: { mode: container, image: "", engine: "" } }',
          '  e: { deployment: { mode: external, url: "" }, health_check: { endpoint: "" } }',
          "agents:",
          '  a: { path: "", health_check: { command: "" } }',
          'plugins: ["", { path: "" }]',
        ),
      ),
    ).toEqual([
      'sam.yaml:2:46 services.p.deployment.command: expected a non-empty string, found ""',
      'sam.yaml:2:55 services.p.deployment.cwd: expected a non-empty string, found ""',
      'sam.yaml:3:46 services.c.deployment.image: expected a non-empty string, found ""',
      'sam.yaml:3:58 services.c.deployment.engine: expected a non-empty string, found ""',
      'sam.yaml:4:43 services.e.deployment.url: expected a non-empty string, found ""',
      'sam.yaml:4:75 services.e.health_check.endpoint: expected a non-empty string, found ""',
      'sam.yaml:6:14 agents.a.path: expected a non-empty string, found ""',
      'sam.yaml:6:43 agents.a.health_check.command: expected a non-empty string, found ""',
      'sam.yaml:7:11 plugins[0]: expected a non-empty string, found ""',
      'sam.yaml:7:23 plugins[1].path: expected a non-empty string, found ""',
    ])
  })
})

describe("stop.signal is a signal name Node knows", () => {
  it("names what was found and suggests the spelling Node uses", async () => {
    expect(
      await failure(
        rows(
          "agents:",
          "  a: { path: /a, stop: { signal: SIGTREM } }",
          "  b: { path: /b, stop: { signal: sigterm } }",
          "  c: { path: /c, stop: { signal: TERM } }",
          "  d: { path: /d, stop: { signal: '' } }",
        ),
      ),
    ).toEqual([
      'sam.yaml:2:34 agents.a.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "SIGTREM" (did you mean "SIGTERM"?)',
      'sam.yaml:3:34 agents.b.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "sigterm" (did you mean "SIGTERM"?)',
      'sam.yaml:4:34 agents.c.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "TERM" (did you mean "SIGTERM"?)',
      'sam.yaml:5:34 agents.d.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found ""',
    ])
  })

  it("accepts the names in os.constants.signals", async () => {
    const dir = await tempDir({ "sam.yaml": rows("agents:", "  a: { path: /a, stop: { signal: SIGINT } }") })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(loaded.config.agents.a!.stop).toEqual({ signal: "SIGINT", grace_seconds: 10 })
  })
})

describe("durations are at most one day, and numbers are finite", () => {
  it("rejects 1e308, a day and a second, and .inf in any *_seconds key, naming the bound", async () => {
    expect(
      await failure(
        rows(
          "runtime: { shutdown_timeout_seconds: 86401 }",
          "services:",
          "  s:",
          "    deployment: { mode: external, url: 'http://localhost:1' }",
          "    stop: { grace_seconds: 1e308 }",
          "    restart_policy: { max_backoff_seconds: .inf, window_seconds: 100000 }",
          "    health_check: { endpoint: /h, interval_seconds: 1e9 }",
          "    gateway: { breaker: { open_seconds: 1e9, window_seconds: 1e6 }, outlier: { base_ejection_seconds: 1e10 } }",
          "supervision: { groups: { g: { window_seconds: 172800 } } }",
        ),
      ),
    ).toEqual([
      "sam.yaml:1:38 runtime.shutdown_timeout_seconds: expected at most 86400 seconds (1 day), found 86401",
      "sam.yaml:5:28 services.s.stop.grace_seconds: expected at most 86400 seconds (1 day), found 1e+308",
      "sam.yaml:6:44 services.s.restart_policy.max_backoff_seconds: expected a finite number, found Infinity",
      "sam.yaml:6:66 services.s.restart_policy.window_seconds: expected at most 86400 seconds (1 day), found 100000",
      "sam.yaml:7:53 services.s.health_check.interval_seconds: expected at most 86400 seconds (1 day), found 1000000000",
      "sam.yaml:8:41 services.s.gateway.breaker.open_seconds: expected at most 86400 seconds (1 day), found 1000000000",
      "sam.yaml:8:62 services.s.gateway.breaker.window_seconds: expected at most 86400 seconds (1 day), found 1000000",
      "sam.yaml:8:103 services.s.gateway.outlier.base_ejection_seconds: expected at most 86400 seconds (1 day), found 10000000000",
      "sam.yaml:9:47 supervision.groups.g.window_seconds: expected at most 86400 seconds (1 day), found 172800",
    ])
  })

  it("rejects non-finite and unsafe numbers elsewhere too", async () => {
    expect(
      await failure(
        rows(
          "agents:",
          "  a: { path: /a, resources: { max_memory_mb: .inf }, restart_policy: { max_restarts: 1e308 } }",
        ),
      ),
    ).toEqual([
      "sam.yaml:2:46 agents.a.resources.max_memory_mb: expected a finite number, found Infinity",
      "sam.yaml:2:86 agents.a.restart_policy.max_restarts: expected an integer, found 1e+308",
    ])
  })
})

describe("runtime.port_range", () => {
  it("is from-to within 1-65535 with from ≤ to", async () => {
    for (const range of ["45000-44000", "0-10", "1-70000", "44000", "a-b"])
      expect(await failure(rows("runtime:", `  port_range: "${range}"`))).toEqual([
        `sam.yaml:2:15 runtime.port_range: expected a port range such as "24000-24999" (from ≤ to, 1-65535), found "${range}"`,
      ])
    const dir = await tempDir({ "sam.yaml": rows("runtime:", '  port_range: "24000-24999"') })
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(loaded.config.runtime.port_range).toBe("24000-24999")
  })
})
