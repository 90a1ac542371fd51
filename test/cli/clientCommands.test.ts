// The client commands (ps, status, capabilities, invoke, the lifecycle commands, reload) against a
// running control API, from the real `sam` executable: what each one loads (the command table and
// the typed client: no Effect, no config machinery), how it finds SAM without loading the config
// (api.json beside it, when that SAM runs this config), and which token it sends.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ApiHarness, startApi, tokens } from "../api/apiHarness.ts"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { fixture, nodeService } from "../support/runtime.ts"
import { repoRoot, runSam } from "./runSam.ts"

let h: ApiHarness
let scratch = ""
let traces = 0

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "sam-client-"))
  h = await startApi([nodeService("db", "http-service.mjs"), agentUnit("helper")])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  removeScratch()
  rmSync(scratch, { recursive: true, force: true })
})

/** Runs `sam args` and returns the run with every module it loaded, relative to the repo. */
const traced = async (
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Record<string, string> } = {},
) => {
  const trace = join(scratch, `trace-${++traces}`)
  writeFileSync(trace, "")
  const run = await runSam(args, {
    ...options,
    env: { ...options.env, MODULE_TRACE: trace },
    nodeArgs: ["--import", fixture("trace-modules.mjs")],
  })
  const modules = readFileSync(trace, "utf8")
    .split("\n")
    .filter((url) => url.startsWith("file:"))
    .map((url) => relative(repoRoot, fileURLToPath(url)))
  return { ...run, modules }
}

/** The command table and argument parsing: all `sam --version` or a usage error may load. */
const table = new Set([
  "src/cli/main.ts",
  "src/cli/io.ts",
  "src/cli/run.ts",
  "src/cli/command.ts",
  "src/cli/commands.ts",
  "src/cli/options.ts",
  "src/cli/peerCommands.ts",
  "src/cli/shellLine.ts",
  "src/config/suggest.ts",
])

/**
 * What a client command may load besides: its body, the typed client and the checks of its
 * answers, node:http (without undici), finding SAM and the wording its lines share with the
 * runtime (delays, a reload, an instance's name: modules with no imports of their own).
 */
const client =
  /^src\/(cli\/[a-zA-Z]+\.ts|api\/(controlClient|controlApiError|answerShape|sseReader|apiAddress|logSince|instanceLabel|degraded)\.ts|config\/(constants|errors|defaultConfigFile)\.ts|runtime\/(os\/nodeHttp|delayText|reloadSummary)\.ts|app\/startOutcome\.ts)$/

describe("what a command loads", () => {
  it("sam --version, --help and a mistyped command load the command table only", async () => {
    for (const args of [["--version"], ["--help"], ["ps", "--help"], ["stat"], ["help", "invoke"]]) {
      const run = await traced(args)
      expect(run.code, args.join(" ")).toBe(args[0] === "stat" ? 2 : 0)
      expect(
        run.modules.filter((m) => !table.has(m)),
        args.join(" "),
      ).toEqual([])
    }
  })

  it("the client commands load no Effect and no config when SAM_URL names the API", async () => {
    const env = { SAM_URL: h.url, SAM_TOKEN: tokens.admin.token }
    const runs = {
      ps: await traced(["ps"], { env }),
      status: await traced(["status", "--json"], { env }),
      capabilities: await traced(["capabilities"], { env }),
      invoke: await traced(["invoke", "echo", '{"n":1}'], { env }),
      streamed: await traced(["invoke", "echo", '{"n":2}', "--stream"], { env }),
      restart: await traced(["restart", "db"], { env }),
      scale: await traced(["scale", "db", "1"], { env }),
      reload: await traced(["reload"], { env }),
      // The daemon matches --grep (RE2): the command does not load the regex library.
      logs: await traced(["logs", "db", "--grep", "^db", "--since", "1h"], { env }),
    }
    expect(runs.ps).toMatchObject({ code: 0, stderr: "" })
    expect(runs.ps.stdout).toMatch(/^db\s+service\s+process\s+running/m)
    expect(JSON.parse(runs.status.stdout)).toMatchObject({
      health: "healthy",
      units: [{ id: "db" }, { id: "helper" }],
    })
    expect(runs.capabilities.stdout).toMatch(/^echo\s+yes\s+helper\s+running\s+yes\s+0\s+answers its input$/m)
    expect(runs.invoke).toMatchObject({ code: 0, stdout: '{\n  "n": 1\n}\n' })
    // A streamed chunk that is no string is one line of JSON.
    expect(runs.streamed).toMatchObject({ code: 0, stdout: '{"n":2}\n' })
    expect(runs.restart.stdout).toMatch(/^db is running/)
    expect(runs.scale).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^db runs 1 instance; it is /),
    })
    // No plugin host in this SAM: a 501 problem, printed as such.
    expect(runs.reload).toMatchObject({ code: 1 })
    expect(runs.reload.stderr).toMatch(/^sam: .*reload/)
    // Nothing of db matches: said on stderr, not left silent.
    expect(runs.logs).toMatchObject({ code: 0, stderr: "sam: no line of db matches\n" })
    expect(runs.ps.modules).toEqual(
      expect.arrayContaining(["src/cli/statusCommand.ts", "src/api/controlClient.ts"]),
    )
    for (const [name, run] of Object.entries(runs))
      expect(
        run.modules.filter((m) => !table.has(m) && !client.test(m)),
        name,
      ).toEqual([])
  })
})

describe("finding SAM and its token", () => {
  /** A project whose sam.config.ts SAM runs: api.json beside it points at the harness's API. */
  const projectDir = (name: string, config: unknown, recordedConfig?: string) => {
    const dir = join(scratch, name)
    mkdirSync(join(dir, ".sam"), { recursive: true })
    writeFileSync(join(dir, "sam.config.ts"), `export default ${JSON.stringify(config)}\n`)
    const state = {
      url: h.url,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      config: recordedConfig ?? join(dir, "sam.config.ts"),
    }
    writeFileSync(join(dir, ".sam", "api.json"), JSON.stringify(state))
    return dir
  }

  it("the api.json beside the config finds SAM without loading the config; its token file is sent", async () => {
    const dir = projectDir("beside", { api: { port: 0 } })
    writeFileSync(join(dir, ".sam", "token"), `${tokens.watcher.token}\n`, { mode: 0o600 })
    const ps = await traced(["ps"], { cwd: dir })
    expect(ps).toMatchObject({ code: 0, stderr: "" })
    expect(ps.stdout).toMatch(/^helper\s+agent\s+sandbox\s+running/m)
    expect(ps.modules.filter((m) => !table.has(m) && !client.test(m))).toEqual([])

    // A token SAM does not know is refused, naming the file it came from.
    writeFileSync(join(dir, ".sam", "token"), "not-a-token\n", { mode: 0o600 })
    const refused = await runSam(["ps"], { cwd: dir })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`SAM refused the token in ${join(dir, ".sam", "token")}`)
    // SAM_TOKEN wins over the file; a viewer may read but not stop.
    const viewer = await runSam(["stop", "db"], { cwd: dir, env: { SAM_TOKEN: tokens.watcher.token } })
    expect(viewer.code).toBe(1)
    expect(viewer.stderr).toContain("needs operator")
    const operator = await runSam(["ps"], { cwd: dir, env: { SAM_TOKEN: tokens.ops.token } })
    expect(operator.code).toBe(0)
  })

  it("a SAM recorded beside the config but running another config is not taken for this one", async () => {
    const dir = projectDir(
      "sibling",
      { api: { port: 0 }, runtime: { state_dir: "elsewhere" } },
      join(scratch, "sibling", "other.config.ts"),
    )
    const ps = await runSam(["ps"], { cwd: dir, env: { SAM_TOKEN: tokens.admin.token } })
    expect(ps.code).toBe(1)
    expect(ps.stderr).toBe(
      `sam: the config sets api.port 0 (any free port) and no running SAM recorded its address in ` +
        `${join(dir, "elsewhere")}/api.json: is SAM running? Otherwise set SAM_URL\n`,
    )
  })
})
