import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { loadConfig } from "../../src/config/load.ts"
import { repoRoot, tempDir, writeFiles } from "./tempDir.ts"

const defineConfigUrl = pathToFileURL(join(repoRoot, "src", "config", "defineConfig.ts")).href

// Each layer sets api.port to its own number; the last layer present must win.
const layerFiles: ReadonlyArray<[string, Record<string, string>]> = [
  ["defaults.json", { "defaults.json": '{ "api": { "port": 7001, "host": "0.0.0.0" } }' }],
  ["sam.config.ts", { "sam.config.ts": "export default { api: { port: 7002 } }\n" }],
  ["system.yaml", { "system.yaml": "api:\n  port: 7003\n" }],
  ["local-overrides.yaml", { "local-overrides.yaml": "api:\n  port: 7004\n" }],
]

const load = (cwd: string, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) =>
  loadConfig({ cwd, env: {}, ...extra })

describe("layer order: each layer overrides the one before it", () => {
  it("built-in defaults apply when nothing is set", async () => {
    const dir = await tempDir({ "sam.config.ts": "export default {}\n" })
    const loaded = await load(dir)
    expect(loaded.config.api).toEqual({ host: "127.0.0.1", port: 7070 })
    expect(loaded.origins.get("api.port")).toBeUndefined()
  })

  it.each(layerFiles.map(([name], i) => [name, i] as const))(
    "%s overrides the layers before it",
    async (name, i) => {
      const files = Object.assign(
        { "sam.config.ts": "export default {}\n" },
        ...layerFiles.slice(0, i + 1).map(([, f]) => f),
      )
      const dir = await tempDir(files)
      const loaded = await load(dir)
      expect(loaded.config.api.port).toBe(7001 + i)
      expect(loaded.origins.get("api.port")).toBe(name)
      // Deep merge: defaults.json's host survives every later layer that only sets the port.
      expect(loaded.config.api.host).toBe("0.0.0.0")
      expect(loaded.origins.get("api.host")).toBe("defaults.json")
    },
  )

  it("SAM__ environment variables override every file", async () => {
    const dir = await tempDir(Object.assign({}, ...layerFiles.map(([, f]) => f)))
    const loaded = await load(dir, { env: { SAM__api__port: "7005" } })
    expect(loaded.config.api.port).toBe(7005)
    expect(loaded.origins.get("api.port")).toBe("env")
  })

  it("--set overrides environment variables", async () => {
    const dir = await tempDir(Object.assign({}, ...layerFiles.map(([, f]) => f)))
    const loaded = await load(dir, { env: { SAM__api__port: "7005" }, cliOverrides: ["api.port=7006"] })
    expect(loaded.config.api.port).toBe(7006)
    expect(loaded.origins.get("api.port")).toBe("cli")
  })

  it("replaces arrays from a later file instead of appending", async () => {
    const dir = await tempDir({
      "sam.yaml": "services:\n  s:\n    deployment: { mode: process, command: x, args: [a, b, c] }\n",
      "system.yaml": "services:\n  s:\n    deployment: { args: [z] }\n",
    })
    const loaded = await load(dir, { configPath: "sam.yaml" })
    expect(loaded.config.services.s!.deployment.args).toEqual(["z"])
    expect(loaded.config.services.s!.deployment.command).toBe("x")
    expect(loaded.origins.get("services.s.deployment.args")).toBe("system.yaml")
  })

  it("lists every file it read, for hot reload", async () => {
    const dir = await tempDir({ "sam.yaml": "{}\n", "system.yaml": "{}\n" })
    const loaded = await load(dir, { configPath: "sam.yaml" })
    expect(loaded.files).toEqual([join(dir, "sam.yaml"), join(dir, "system.yaml")])
    expect(loaded.configPath).toBe(join(dir, "sam.yaml"))
    expect(loaded.baseDir).toBe(dir)
  })
})

describe("main file formats", () => {
  it("reads sam.config.ts using defineConfig, and re-reads it after an edit", async () => {
    const source = (port: number) =>
      `import { defineConfig } from ${JSON.stringify(defineConfigUrl)}\nexport default defineConfig({ api: { port: ${port} } })\n`
    const dir = await tempDir({ "sam.config.ts": source(7100) })
    expect((await load(dir)).config.api.port).toBe(7100)
    await writeFiles(dir, { "sam.config.ts": source(7101) })
    expect((await load(dir)).config.api.port).toBe(7101)
  })

  it("reads .mjs with a (possibly async) function as default export", async () => {
    const dir = await tempDir({ "c.mjs": "export default async () => ({ api: { port: 7200 } })\n" })
    expect((await load(dir, { configPath: "c.mjs" })).config.api.port).toBe(7200)
  })

  it("reads .json and .yml", async () => {
    const dir = await tempDir({ "c.json": '{ "api": { "port": 7300 } }', "c.yml": "api: { port: 7301 }\n" })
    expect((await load(dir, { configPath: "c.json" })).config.api.port).toBe(7300)
    expect((await load(dir, { configPath: "c.yml" })).config.api.port).toBe(7301)
  })

  it("reports a missing main file and an unsupported extension", async () => {
    const dir = await tempDir({ "c.toml": "" })
    await expect(load(dir)).rejects.toThrow(/sam\.config\.ts config file not found/)
    await expect(load(dir, { configPath: "c.toml" })).rejects.toThrow(/unsupported config file type ".toml"/)
    // Without --config, the config files that are there are named.
    const beside = await tempDir({ "sam.yaml": "{}\n", "sam.config.json": "{}", "notes.yaml": "" })
    await expect(load(beside)).rejects.toThrow(
      "sam.config.ts config file not found (sam.config.ts is the default, else the one sam.* config file here; this folder has sam.config.json, sam.yaml: pass --config sam.config.json)",
    )
  })

  it("without --config uses sam.config.ts, else the one sam.* config file in the folder", async () => {
    const lone = await tempDir({ "sam.yaml": "api: { port: 7310 }\n", "notes.yaml": "x: 1\n" })
    const loaded = await load(lone)
    expect(loaded.config.api.port).toBe(7310)
    expect(loaded.configPath).toBe(join(lone, "sam.yaml"))
    // sam.config.ts wins when it is there.
    const both = await tempDir({
      "sam.yaml": "api: { port: 7311 }\n",
      "sam.config.ts": "export default { api: { port: 7312 } }\n",
    })
    expect((await load(both)).config.api.port).toBe(7312)
  })
})

describe("environment variables SAM__a__b", () => {
  const envOf = async (env: Record<string, string>) => {
    const dir = await tempDir({ "sam.yaml": "agents:\n  a: { path: /x }\n" })
    return load(dir, { configPath: "sam.yaml", env })
  }

  it("parses JSON values: booleans, numbers, arrays, objects", async () => {
    const loaded = await envOf({
      SAM__agents__a__enabled: "false",
      SAM__api__port: "8080",
      SAM__agents__a__capabilities: '["summarize","translate"]',
      SAM__agents__a__resources: '{"max_memory_mb":256}',
    })
    const agent = loaded.config.agents.a!
    expect(agent.enabled).toBe(false)
    expect(loaded.config.api.port).toBe(8080)
    expect(agent.capabilities).toEqual(["summarize", "translate"])
    expect(agent.resources).toEqual({ max_memory_mb: 256 })
  })

  it("keeps values that are not JSON as strings and creates nested paths", async () => {
    const loaded = await envOf({
      SAM__api__host: "0.0.0.0",
      SAM__agents__a__environment__GREETING: "hello world",
      SAM__agents__a__environment__QUOTED: '"42"',
      UNRELATED: "ignored",
    })
    expect(loaded.config.api.host).toBe("0.0.0.0")
    expect(loaded.config.agents.a!.environment).toEqual({ GREETING: "hello world", QUOTED: "42" })
    expect(loaded.origins.get("agents.a.environment.GREETING")).toBe("env")
  })

  it("takes segment names as written (case-sensitive) and names the variable in errors", async () => {
    const error = await envOf({ SAM__API__port: "1" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).format()).toContain(
      'env SAM__API__port API: unknown key "API" (did you mean "api"?)',
    )
  })

  it("rejects an empty segment", async () => {
    await expect(envOf({ SAM__api____port: "1" })).rejects.toThrow(/empty path segment in SAM__api____port/)
  })
})

describe("relative paths resolve against the file that set them", () => {
  it("uses the config file's directory for files and the working directory for env and --set", async () => {
    const dir = await tempDir({
      "conf/sam.yaml": [
        "agents:",
        "  a: { path: agents/a }",
        "  b: { path: /abs/b, data_dir: data/b }",
        "services:",
        "  p: { deployment: { mode: process, command: run } }",
        "  c:",
        "    deployment:",
        "      mode: container",
        "      image: img",
        '      volumes: ["./data:/srv", "named:/x", "/abs:/y"]',
        "plugins: [./plugins/p.ts, some-package, { path: ../shared/q.ts }]",
        "",
      ].join("\n"),
      "conf/system.yaml": "services:\n  e: { deployment: { mode: process, command: run, cwd: work } }\n",
    })
    const conf = join(dir, "conf")
    const loaded = await load(dir, {
      configPath: "conf/sam.yaml",
      env: { SAM__agents__envAgent: '{"path":"from-env"}' },
      cliOverrides: ["runtime.state_dir=state"],
    })
    const { agents, services, plugins, runtime, security } = loaded.config
    expect(agents.a!.path).toBe(join(conf, "agents/a"))
    expect(agents.b!.path).toBe("/abs/b")
    expect(agents.b!.data_dir).toBe(join(conf, "data/b"))
    expect(agents.envAgent!.path).toBe(join(dir, "from-env"))
    expect(runtime.state_dir).toBe(join(dir, "state"))
    expect(agents.a!.data_dir).toBe(join(dir, "state", "agents", "a", "data"))
    expect(security.vault).toEqual({
      path: join(dir, "state", "vault.json"),
      key_file: join(dir, "state", "vault.key"),
    })
    expect(services.e!.deployment.cwd).toBe(join(conf, "work"))
    // A process with no cwd runs in the directory of the file that defined it.
    expect(services.p!.deployment.cwd).toBe(conf)
    expect(services.c!.deployment.volumes).toEqual([`${join(conf, "data")}:/srv`, "named:/x", "/abs:/y"])
    expect(plugins).toEqual([
      { path: join(conf, "plugins/p.ts"), enabled: true },
      { package: "some-package", enabled: true },
      { path: join(dir, "shared/q.ts"), enabled: true },
    ])
  })

  it("puts the default state directory beside the main file", async () => {
    const dir = await tempDir({ "conf/sam.yaml": "{}\n" })
    const loaded = await load(dir, { configPath: "conf/sam.yaml" })
    expect(loaded.config.runtime.state_dir).toBe(join(dir, "conf", ".sam"))
    expect(loaded.origins.get("runtime.state_dir")).toBeUndefined()
  })
})

describe("decoded defaults", () => {
  it("normalizes restart policies and fills unit defaults", async () => {
    const dir = await tempDir({
      "sam.yaml": [
        "runtime: { default_agent_runtime: process }",
        "agents:",
        "  a: { path: /a, restart_policy: { enabled: false } }",
        "  b: { path: /b, runtime: inline }",
        "services:",
        "  s: { deployment: { mode: external, url: 'http://localhost:1' }, restart_policy: on-failure }",
        "  t: { deployment: { mode: external, url: 'http://localhost:2' }, restart_policy: never }",
        "  u: { deployment: { mode: external, url: 'http://localhost:3' } }",
        "",
      ].join("\n"),
    })
    const { config, origins } = await load(dir, { configPath: "sam.yaml" })
    expect(config.agents.a!.restart_policy.type).toBe("temporary")
    expect(config.agents.a!.runtime).toBe("process")
    expect(origins.get("agents.a.runtime")).toBe("sam.yaml")
    expect(config.agents.b!.runtime).toBe("inline")
    expect(config.services.s!.restart_policy).toEqual({
      type: "transient",
      max_restarts: 5,
      window_seconds: 60,
      backoff_seconds: 1,
      max_backoff_seconds: 300,
      stable_seconds: 10,
      restart_exit_codes: [],
      no_restart_exit_codes: [],
      on_exhausted: "retry",
    })
    expect(config.services.t!.restart_policy.type).toBe("temporary")
    expect(config.services.u!.restart_policy.type).toBe("permanent")
    expect(config.services.u!.group).toBe("services")
    expect(config.agents.a!.group).toBe("agents")
    expect(Object.keys(config.supervision.groups).sort()).toEqual(["agents", "services"])
  })
})
