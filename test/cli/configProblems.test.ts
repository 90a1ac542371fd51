import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ephemeralRange } from "../../src/runtime/freePort.ts"
import { repoRoot, runSam } from "./runSam.ts"

// The real `sam` executable on configs it must refuse (exit 2, file:line:col and what is wrong,
// nothing started), on a .ts config in a "type": "commonjs" project, and the restart limits and
// warnings it prints for a valid config.

let scratch = ""
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sam-cli-config-"))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

let projects = 0
const project = async (files: Record<string, string>): Promise<string> => {
  const dir = join(scratch, `p${++projects}`)
  for (const [file, content] of Object.entries(files)) {
    await mkdir(join(dir, file, ".."), { recursive: true })
    await writeFile(join(dir, file), content)
  }
  return dir
}

const aliasBomb = (): string => {
  const rows = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
  const names = "abcdefghi"
  for (let i = 1; i < names.length; i++)
    rows.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(", ")}]`,
    )
  return `${rows.join("\n")}\n`
}

const EMPTY = "the config file is empty (write {} for a config with no settings)"

const refused: ReadonlyArray<[string, Record<string, string>, string, string]> = [
  ["an empty file", { "sam.yaml": "" }, "sam.yaml", `sam.yaml ${EMPTY}`],
  ["a comment-only .ts file", { "sam.config.ts": "// soon\n" }, "sam.config.ts", `sam.config.ts ${EMPTY}`],
  [
    "JSON with a trailing comma",
    { "sam.json": '{\n  "api": { "port": 1, }\n}\n' },
    "sam.json",
    'sam.json:2:21 invalid JSON: trailing comma before "}" (JSON allows none)',
  ],
  [
    "an empty deployment.command",
    { "sam.yaml": 'services:\n  s:\n    deployment: { mode: process, command: "" }\n' },
    "sam.yaml",
    'sam.yaml:3:43 services.s.deployment.command: expected a non-empty string, found ""',
  ],
  [
    "a misspelt stop signal",
    { "sam.yaml": "agents:\n  a: { path: /a, stop: { signal: SIGTREM } }\n" },
    "sam.yaml",
    'sam.yaml:2:34 agents.a.stop.signal: expected a signal name such as "SIGTERM" (os.constants.signals), found "SIGTREM" (did you mean "SIGTERM"?)',
  ],
  [
    "a misspelt alert kind",
    { "sam.yaml": "monitoring:\n  alerts:\n    api-down: { when: unit_unredy }\n" },
    "sam.yaml",
    'sam.yaml:3:23 monitoring.alerts.api-down.when: expected one of "unit_unready" | "crash_loop" | "restart_rate" | "memory_above" | "breaker_open" | "sam_event_loop_lag", found "unit_unredy" (did you mean "unit_unready"?)',
  ],
  [
    "an alert about a unit that does not exist",
    {
      "sam.yaml":
        "services:\n  api: { deployment: { mode: external, url: 'http://127.0.0.1:1' } }\nmonitoring:\n  alerts:\n    big: { when: memory_above, threshold: 1e9, units: [apj] }\n",
    },
    "sam.yaml",
    'sam.yaml:5:56 monitoring.alerts.big.units[0]: no agent or service "apj" (did you mean "api"?)',
  ],
  [
    "a grace period of 1e308 seconds",
    { "sam.yaml": "agents:\n  a: { path: /a, stop: { grace_seconds: 1e308 } }\n" },
    "sam.yaml",
    "sam.yaml:2:41 agents.a.stop.grace_seconds: expected at most 86400 seconds (1 day), found 1e+308",
  ],
  [
    "a YAML alias bomb",
    { "sam.yaml": aliasBomb() },
    "sam.yaml",
    "sam.yaml:2:8 YAML aliases expand too much (more than 100 times; an alias bomb?): write the values out or use fewer *aliases",
  ],
  [
    "a syntax error in a .ts config",
    { "sam.config.ts": "export default {\n  api: { port: 1 },,\n}\n" },
    "sam.config.ts",
    "sam.config.ts:2:20 syntax error: Unexpected token `,`. Expected identifier, string literal, numeric literal or [ for the computed key",
  ],
  [
    "a syntax error in a .mjs config",
    { "sam.config.mjs": "export default {\n  api: { port: 1 },,\n}\n" },
    "sam.config.mjs",
    "sam.config.mjs:2:20 syntax error: Unexpected token ','",
  ],
  [
    "an ES module .js config in a commonjs package",
    { "package.json": '{ "type": "commonjs" }\n', "sam.config.js": "export default {}\n" },
    "sam.config.js",
    `sam.config.js:1:1 syntax error: Unexpected token 'export'; Node loads this .js file as CommonJS: rename it to .mjs, or add "type": "module" to the nearest package.json`,
  ],
]

describe("sam validate and sam start refuse a config SAM cannot use (exit 2)", () => {
  it.each(refused)("%s", async (_, files, config, line) => {
    const dir = await project(files)
    for (const args of [
      ["validate", "--config", config],
      ["start", "--config", config, "--port", "0"],
    ]) {
      const run = await runSam(args, { cwd: dir })
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(2)
      expect(run.stdout).toBe("")
      expect(run.stderr).toContain(`sam: invalid configuration, 1 problem:\n${line}\n`)
      expect(run.stderr).not.toMatch(/\n\s+at /) // no stack trace
    }
  })
})

describe('a .ts config in a "type": "commonjs" project (what npm init -y writes)', () => {
  it("validates, and sam start runs it and prints its warnings in the banner", async () => {
    const dir = await project({
      "package.json": '{ "name": "app", "version": "1.0.0", "type": "commonjs" }\n',
      "sam.config.ts": [
        "const port: number = 0",
        "export default {",
        "  api: { port },",
        '  agents: { later: { path: ".", enabled: false, health_check: { endpoint: "/health" } } },',
        "  services: {},",
        "}",
        "",
      ].join("\n"),
    })
    const validate = await runSam(["validate"], { cwd: dir })
    expect(validate.code, validate.stderr).toBe(0)
    expect(validate.stdout).toMatch(/^ok: 1 agent, 0 services\n/)
    const warning =
      "warning: agents.later.health_check.endpoint: not used: an agent has no port, so its check asks the agent's health() hook over IPC (type: heartbeat)\n"
    expect(validate.stderr).toBe(warning)

    const child = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "start"], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString()
        if (stdout.includes("units ready")) resolve()
      })
      child.once("exit", () => reject(new Error(`sam exited early:\n${stdout}\n${stderr}`)))
    })
    expect(stdout).toContain("0/0 units ready")
    expect(stderr.startsWith(warning)).toBe(true)
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
  })
})

describe("sam validate on a valid config", () => {
  it("lists each unit's restart limits and warns about keys that do nothing (exit 0)", async () => {
    const dir = await project({
      "sam.yaml": [
        "supervision: { groups: { storage: { strategy: one_for_all } } }",
        "services:",
        "  db:",
        "    deployment: { mode: external, url: 'http://localhost:1' }",
        "    group: storage",
        "    restart_policy: { on_exhausted: give_up }",
        "    scaling: { max_instances: 2, target_in_flight: 4 }",
        "agents:",
        "  helper: { path: ., restart_policy: never, max_queue: 10, health_check: { endpoint: /health } }",
        "",
      ].join("\n"),
    })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code).toBe(0)
    expect(run.stdout.split("\n")).toEqual([
      "ok: 1 agent, 1 service",
      "restart limits:",
      "  services.db: permanent, 5 restarts in 60s, then give up; group storage (one_for_all): 30 restarts in 60s",
      "  agents.helper: temporary, never restarted; group agents: no group limit (implicit group)",
      expect.stringMatching(/^containment: .*(cgroup|process group).*$/),
      // The config has a sandboxed agent: how this host walls it in (docs/SECURITY.md).
      expect.stringMatching(
        /^sandbox: (bubblewrap .* around Node's permission model|WEAK: Node's permission model only)/,
      ),
      "",
    ])
    // max_queue does something (docs/CONFIG.md): no warning; an agent's endpoint does nothing.
    expect(run.stderr).toBe(
      "warning: agents.helper.health_check.endpoint: not used: an agent has no port, so its check asks the agent's health() hook over IPC (type: heartbeat)\n",
    )
  })
})

describe("sam validate checks the plugins sam start would load", () => {
  it("imports each (its setup does not run) and names what would not load, with the config path of a bad config (exit 2)", async () => {
    const webhook = join(repoRoot, "plugins", "webhook-sink")
    const plugin = (name: string, extra = "") =>
      `import { writeFileSync } from "node:fs"\nexport default { name: "${name}", version: "1.0.0"${extra}, setup() { writeFileSync("set-up-${name}", "") } }\n`
    const dir = await project({
      "sam.yaml": [
        "plugins:",
        "  - { path: ./nothing-here.mjs }",
        `  - { path: ${JSON.stringify(webhook)}, config: { url: 42, batchsize: 3 } }`,
        "  - { path: ./off.mjs, enabled: false }",
        "",
      ].join("\n"),
      "off.mjs": "throw new Error('a disabled plugin is not imported')\n",
      "plugins/fine.mjs": plugin("fine"),
      "plugins/helper.mjs": "export const x = 1\n",
      "plugins/after.mjs": plugin("after", ', dependsOn: ["webhook-sink"]'),
      "plugins/lost.mjs": plugin("lost", ', dependsOn: ["fin"]'),
    })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code, run.stderr).toBe(2)
    // Not "ok": `sam start` would run without some of it.
    expect(run.stdout).toMatch(/^not ok: 0 agents, 0 services\n/)
    expect(run.stdout).toMatch(/^plugins: fine$/m)
    expect(run.stderr.split("\n")).toEqual([
      `sam: plugins[0].path: no file or folder at ${join(dir, "nothing-here.mjs")}`,
      'sam: plugin "webhook-sink" has an invalid config: plugins[1].config.batchsize: unknown key "batchsize" (did you mean "batch_size"?); plugins[1].config.url: expected a string, found 42',
      "sam: plugins/helper.mjs is not a SAM plugin: it has no default export object; export default definePlugin({ name, version, setup })",
      'sam: plugin "lost" depends on "fin" (did you mean "fine"?), which is not configured or not found',
      'sam: plugin "after" depends on "webhook-sink", which would not load',
      "`sam start` would run without these plugins.",
      "",
    ])
    expect(existsSync(join(dir, "set-up-fine"))).toBe(false)
  })
})

describe("sam validate and runtime.port_range", () => {
  it("warns about a range the kernel also hands out as source ports", async () => {
    const ephemeral = ephemeralRange()
    expect(ephemeral, "this host has an ip_local_port_range").toBeDefined()
    const inside = `${ephemeral!.from + 100}-${ephemeral!.from + 199}`
    const dir = await project({ "sam.yaml": `runtime: { port_range: "${inside}" }\n` })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(
      `warning: runtime.port_range: ${inside} is inside the kernel's range of source ports for outgoing connections (ip_local_port_range ${ephemeral!.from}-${ephemeral!.to})`,
    )
    // Partly inside: the configured range, and which part of it.
    const across = `${ephemeral!.from - 10}-${ephemeral!.from + 9}`
    const partly = await project({ "sam.yaml": `runtime: { port_range: "${across}" }\n` })
    expect((await runSam(["validate", "--config", "sam.yaml"], { cwd: partly })).stderr).toContain(
      `warning: runtime.port_range: ${across}: ${ephemeral!.from}-${ephemeral!.from + 9} of it is inside the kernel's range`,
    )
    const below = await project({ "sam.yaml": 'runtime: { port_range: "24000-24999" }\n' })
    expect((await runSam(["validate", "--config", "sam.yaml"], { cwd: below })).stderr).toBe("")
  })

  it("warns about a range that holds a port the config fixes: api.port, a deployment.port", async () => {
    const dir = await project({
      "sam.yaml": [
        'runtime: { port_range: "24000-24099" }',
        "api: { port: 24000 }",
        "services:",
        "  web: { deployment: { mode: process, command: node, port: 24050 } }",
        "  other: { deployment: { mode: process, command: node, port: 25000 } }",
        "",
      ].join("\n"),
    })
    const run = await runSam(["validate", "--config", "sam.yaml"], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr.split("\n").filter((l) => l.startsWith("warning:"))).toEqual([
      "warning: runtime.port_range: 24000-24099 holds api.port 24000: that port is SAM's API, one fewer for units",
      "warning: runtime.port_range: 24000-24099 holds services.web.deployment.port 24050: SAM may hand that port to another unit first; move one out of the other",
    ])
  })
})
