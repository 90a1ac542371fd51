// The `watch` key of agents and services: its shapes, their defaults, where its paths resolve, and
// what validation says about it (schema, cross checks, missing paths, warnings).
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { configJsonSchema } from "../../src/config/jsonSchema.ts"
import { loadConfig } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { tempDir } from "./tempDir.ts"

const yaml = (...rows: Array<string>) => `${rows.join("\n")}\n`

const load = async (files: Record<string, string>) => {
  const dir = await tempDir(files)
  return { dir, result: await loadConfig({ cwd: dir, configPath: "sam.yaml" }).catch((e: unknown) => e) }
}

const issuesOf = (result: unknown) => {
  if (!(result instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(result)}`)
  return result.format().split("\n")
}

const processService = (...watch: Array<string>) => [
  "services:",
  "  web:",
  "    deployment: { mode: process, command: node, args: [server.mjs] }",
  ...watch.map((line) => `    ${line}`),
]

describe("watch: shapes and defaults", () => {
  it("true watches the service's working directory, false or no key nothing", async () => {
    const { dir, result } = await load({
      "sam.yaml": yaml(
        ...processService("watch: true"),
        "  api:",
        "    deployment: { mode: process, command: node, cwd: api }",
        "    watch: { debounce_ms: 50 }",
        "  off:",
        "    deployment: { mode: process, command: node }",
        "    watch: false",
        "  plain:",
        "    deployment: { mode: process, command: node }",
      ),
      "api/server.mjs": "",
    })
    if (result instanceof Error) throw result
    const loaded = result as Awaited<ReturnType<typeof loadConfig>>
    const specs = new Map(unitSpecsFromConfig(loaded.config, loaded.baseDir).units.map((u) => [u.id, u]))
    const stateDir = join(dir, ".sam")
    const defaults = ["node_modules", ".git", "*.log", "*.swp", "*.swx", "*~"]
    expect(specs.get("web")?.watch).toEqual({
      paths: [dir],
      ignore: defaults,
      ignoreDirs: [stateDir],
      debounceMs: 500,
      relativeTo: dir,
    })
    expect(specs.get("api")?.watch).toMatchObject({ paths: [join(dir, "api")], debounceMs: 50 })
    expect(specs.get("off")?.watch).toBeUndefined()
    expect(specs.get("plain")?.watch).toBeUndefined()
  })

  it("an object's paths resolve against the file that set them; its ignores add to the defaults", async () => {
    const { dir, result } = await load({
      "sam.yaml": yaml(
        "agents:",
        "  helper:",
        "    path: agents/helper",
        "    runtime: worker",
        "    data_dir: agents/helper/data",
        "    watch: { paths: [agents/helper, shared], ignore: ['*.tmp', 'fixtures/**'] }",
      ),
      "agents/helper/index.mjs": "",
      "shared/util.mjs": "",
    })
    if (result instanceof Error) throw result
    const loaded = result as Awaited<ReturnType<typeof loadConfig>>
    const [helper] = unitSpecsFromConfig(loaded.config, loaded.baseDir).units
    expect(helper?.watch).toMatchObject({
      paths: [join(dir, "agents/helper"), join(dir, "shared")],
      ignore: ["node_modules", ".git", "*.log", "*.swp", "*.swx", "*~", "*.tmp", "fixtures/**"],
      // The agent's own data dir inside its folder: what it writes there restarts nothing.
      ignoreDirs: [join(dir, ".sam"), join(dir, "agents/helper/data")],
    })
  })

  it("an agent's watch: true watches its path", async () => {
    const { dir, result } = await load({
      "sam.yaml": yaml(
        "agents:",
        "  helper:",
        "    path: helper.mjs",
        "    runtime: process",
        "    watch: true",
      ),
      "helper.mjs": "",
    })
    const loaded = result as Awaited<ReturnType<typeof loadConfig>>
    expect(unitSpecsFromConfig(loaded.config, loaded.baseDir).units[0]?.watch?.paths).toEqual([
      join(dir, "helper.mjs"),
    ])
  })
})

describe("watch: validation", () => {
  it("the schema names the key path of a bad value", async () => {
    const { result } = await load({
      "sam.yaml": yaml(
        "services:",
        "  a:",
        "    deployment: { mode: process, command: node }",
        "    watch: yes please",
        "  b:",
        "    deployment: { mode: process, command: node }",
        "    watch: { debounce_ms: -5, paths: [], ignore: src }",
        "  c:",
        "    deployment: { mode: process, command: node }",
        "    watch: { path: [src] }",
      ),
    })
    expect(issuesOf(result)).toEqual([
      'sam.yaml:4:12 services.a.watch: expected a boolean or an object, found "yes please"',
      "sam.yaml:7:27 services.b.watch.debounce_ms: expected a value between 0 and 60000, found -5",
      "sam.yaml:7:38 services.b.watch.paths: expected at least one path, found an array",
      'sam.yaml:7:50 services.b.watch.ignore: expected a list, found "src"',
      'sam.yaml:10:14 services.c.watch.path: unknown key "path" (did you mean "paths"?)',
    ])
  })

  it("watch on a container or external service is an error: SAM runs no process of it from files", async () => {
    const { result } = await load({
      "sam.yaml": yaml(
        "services:",
        "  db:",
        "    deployment: { mode: container, image: postgres:17, engine: /bin/true }",
        "    watch: true",
        "  remote:",
        "    deployment: { mode: external, url: 'http://127.0.0.1:9' }",
        "    watch: { paths: [.] }",
      ),
    })
    expect(issuesOf(result)).toEqual([
      'sam.yaml:4:12 services.db.watch: watch restarts a process SAM runs when its files change; a "container" service has none (watch is for process services and agents)',
      'sam.yaml:7:12 services.remote.watch: watch restarts a process SAM runs when its files change; a "external" service has none (watch is for process services and agents)',
    ])
  })

  it("a watched path that does not exist is an error naming the unit and the path", async () => {
    const { dir, result } = await load({
      "sam.yaml": yaml(
        ...processService("watch: { paths: [src, lib] }"),
        "agents:",
        "  helper:",
        "    path: agents/helper",
        "    watch: true",
      ),
      "src/server.mjs": "",
    })
    expect(issuesOf(result)).toEqual([
      `sam.yaml:4:27 services.web.watch.paths[1]: ${join(dir, "lib")} does not exist, so there is nothing to watch; create it or change services.web.watch.paths`,
      `sam.yaml:8:12 agents.helper.watch: ${join(dir, "agents/helper")} does not exist, so there is nothing to watch; create it or change agents.helper.watch.paths`,
    ])
  })

  it("watch is implemented: no warning, except what an inline agent cannot reload", async () => {
    const dir = await tempDir({
      "sam.yaml": yaml(
        ...processService("watch: true"),
        "agents:",
        "  quick:",
        "    path: quick.mjs",
        "    runtime: inline",
        "    watch: true",
      ),
      "quick.mjs": "",
    })
    await mkdir(join(dir, "src"))
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml" })
    expect(loaded.warnings).toEqual([
      `agents.quick.watch: an inline agent runs in SAM's own process, where Node cannot unload modules: a change imports its entry file afresh, but the modules it imports stay as first loaded; use runtime "worker" to reload all of its code`,
    ])
  })

  it("the JSON Schema describes both shapes", () => {
    const schema = configJsonSchema() as { $defs: Record<string, { properties?: Record<string, unknown> }> }
    expect(schema.$defs.Service?.properties?.watch).toMatchObject({
      anyOf: [{ type: "boolean" }, { $ref: "#/$defs/WatchObject" }],
    })
    expect(Object.keys(schema.$defs.WatchObject?.properties ?? {})).toEqual([
      "enabled",
      "paths",
      "ignore",
      "debounce_ms",
    ])
  })
})
