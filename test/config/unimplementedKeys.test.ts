import { describe, expect, it } from "vitest"
import { loadConfig } from "../../src/config/load.ts"
import { tempDir } from "./tempDir.ts"

// Keys the schema accepts before SAM acts on them: setting one is a warning naming the key, so a
// user is never left believing it works. Defaults are never warned about.

const warningsOf = async (yaml: string, env: Record<string, string> = {}) => {
  const dir = await tempDir({ "sam.yaml": yaml })
  return (await loadConfig({ cwd: dir, configPath: "sam.yaml", env })).warnings
}

describe("a set key SAM does not implement yet is a warning", () => {
  it("names every such key the user set, per unit", async () => {
    const yaml = [
      "services:",
      "  api:",
      "    deployment: { mode: external, url: 'http://localhost:1' }",
      "    scaling: { min_instances: 1, max_instances: 3, cpu_threshold: 80, target_in_flight: 8 }",
      "    configuration: { collection: notes }",
      "agents:",
      "  a: { path: /, max_queue: 10, persona: academic }",
      "monitoring:",
      "  logs: { max_lines_per_unit: 10, max_line_kb: 16 }",
      "",
    ].join("\n")
    expect(await warningsOf(yaml)).toEqual([
      "services.api.configuration: not implemented yet, the setting has no effect (SAM does not pass it to the service; use deployment.env or deployment.args)",
    ])
  })

  it("also when set from the environment", async () => {
    const yaml = "services:\n  api: { deployment: { mode: external, url: 'http://localhost:1' } }\n"
    expect(await warningsOf(yaml, { SAM__services__api__configuration: "notes" })).toEqual([
      "services.api.configuration: not implemented yet, the setting has no effect (SAM does not pass it to the service; use deployment.env or deployment.args)",
    ])
  })

  it("never for defaults or for the keys that work", async () => {
    const yaml = [
      "services:",
      "  api:",
      "    deployment: { mode: external, url: 'http://localhost:1' }",
      "    scaling: { min_instances: 0, max_instances: 3, cpu_threshold: 80, target_in_flight: 8, scale_up_seconds: 5, scale_down_seconds: 60, cooldown_seconds: 10 }",
      "monitoring:",
      "  logs: { max_lines_per_unit: 10, max_line_kb: 16 }",
      "  metrics: { enabled: false, path: /m, public: true }",
      "  alerts: { api-down: { when: unit_unready, units: [api], for_seconds: 5 } }",
      // Implemented since: an agent's queue bound and its persona.
      "agents:",
      "  a: { path: /, max_queue: 10, persona: academic }",
      "",
    ].join("\n")
    expect(await warningsOf(yaml)).toEqual([])
  })
})
