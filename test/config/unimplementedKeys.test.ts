import { describe, expect, it } from "vitest"
import { loadConfig } from "../../src/config/load.ts"
import { unimplementedKeyWarnings } from "../../src/config/unimplementedKeys.ts"
import { tempDir } from "./tempDir.ts"

// Keys the schema accepts before SAM acts on them: setting one is a warning naming the key, so a
// user is never left believing it works. Defaults are never warned about. There is none at
// present; the mechanism is tested with a list of its own.

const warningsOf = async (yaml: string, env: Record<string, string> = {}) => {
  const dir = await tempDir({ "sam.yaml": yaml })
  return (await loadConfig({ cwd: dir, configPath: "sam.yaml", env })).warnings
}

describe("a set key SAM does not implement yet is a warning", () => {
  const keys = [
    { path: "agents.*.mood", instead: "the agent is not told" },
    { path: "services.*.colour", instead: "nothing is painted" },
  ]

  it("names every such key the user set, per unit", () => {
    const raw = {
      agents: { a: { path: "/", mood: "calm" }, b: { path: "/" } },
      services: { api: { colour: "red" } },
    }
    expect(unimplementedKeyWarnings(raw, keys)).toEqual([
      "agents.a.mood: not implemented yet, the setting has no effect (the agent is not told)",
      "services.api.colour: not implemented yet, the setting has no effect (nothing is painted)",
    ])
  })

  it("never for the keys that landed: an agent's persona and max_queue, a service's configuration", async () => {
    const yaml = [
      "services:",
      "  api:",
      `    deployment: { mode: process, command: ${JSON.stringify(process.execPath)} }`,
      "    configuration: { collection: notes }",
      "agents:",
      "  a: { path: /, max_queue: 10, persona: academic }",
      "",
    ].join("\n")
    expect(await warningsOf(yaml, { SAM__agents__a__max_queue: "3" })).toEqual([])
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
      "",
    ].join("\n")
    expect(await warningsOf(yaml)).toEqual([])
  })
})

describe("a service's configuration", () => {
  it("on an external service is a warning: SAM starts nothing that would receive it", async () => {
    const yaml = [
      "services:",
      "  api:",
      "    deployment: { mode: external, url: 'http://localhost:1' }",
      "    configuration: { collection: notes }",
      "",
    ].join("\n")
    expect(await warningsOf(yaml)).toEqual([
      "services.api.configuration: has no effect on an external service (SAM does not start it, so nothing receives it)",
    ])
  })

  it("bigger than 64 KiB as JSON is an error naming its size and what to do instead", async () => {
    const yaml = [
      "services:",
      "  api:",
      "    deployment: { mode: process, command: node }",
      `    configuration: { blob: ${"x".repeat(70_000)} }`,
      "",
    ].join("\n")
    const error = await warningsOf(yaml).catch((e: unknown) => String(e))
    expect(error).toContain(
      "services.api.configuration: is 70011 bytes as JSON, more than the 65536 SAM passes in SAM_SERVICE_CONFIGURATION; put it in a file and pass its path (deployment.args or deployment.env)",
    )
  })
})
