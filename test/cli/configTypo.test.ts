// A config that sets its own runtime.state_dir, saved with a typo while SAM runs: SAM keeps the
// config it has, and the CLI still finds it through the state dir the broken config names (read
// from its layers without validating the rest), saying on stderr that the config does not validate.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Daemon, fixturePath, type Project, project } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project
let daemon: Daemon
let configFile = ""

/** sam.config.ts with `web`'s health check under `checkKey` and the given state_dir. */
const writeConfig = (checkKey: string, stateDir: unknown = "./state") =>
  writeFileSync(
    configFile,
    `export default ${JSON.stringify({
      runtime: { state_dir: stateDir },
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
          [checkKey]: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
        },
      },
    })}\n`,
  )

/** Where the typo is in the one-line config: its problems carry line:column as YAML's do. */
const typoAt = () => `1:${readFileSync(configFile, "utf8").indexOf('"helth_check"') + 1}`

const warning = () =>
  `sam: warning: the config sam.config.ts does not validate (sam.config.ts:${typoAt()} services.web.helth_check: unknown key "helth_check" (did you mean "health_check"?)); ` +
  "using the SAM recorded in state/api.json (`sam validate` lists every problem)\n"

beforeAll(async () => {
  p = project("sam.config.ts")
  configFile = join(p.dir, "sam.config.ts")
  writeConfig("health_check")
  daemon = await p.start()
  await daemon.waitForOutput("units ready")
})

afterAll(async () => {
  expect(await p.cleanup()).toEqual([])
})

describe("a config with its own state_dir, saved with a typo while SAM runs", () => {
  it("a valid config finds SAM through <state_dir>/api.json, without a word on stderr", async () => {
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps).toMatchObject({ code: 0, stderr: "" })
    expect(ps.stdout).toMatch(/^web\s+service\s+process\s+running/m)
  })

  it("`sam ps` and `sam reload` still reach SAM through the state dir the config names, with a warning", async () => {
    writeConfig("helth_check")
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.stderr).toBe(warning())
    expect(ps.code).toBe(0)
    expect(ps.stdout).toMatch(/^web\s+service\s+process\s+running/m)

    // SAM itself refuses the broken config and keeps the one it runs.
    const reload = await runSam(["reload"], { cwd: p.dir })
    expect(reload.code).toBe(2)
    expect(reload.stderr.startsWith(warning())).toBe(true)
    expect(reload.stderr).toContain("config reload rejected, still running the previous config")
    expect(reload.stderr).toContain('services.web.helth_check: unknown key "helth_check"')
    expect(daemon.child.exitCode).toBeNull()
  })

  it("the state dir is resolved against the config's directory, not the working directory", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "sam-elsewhere-"))
    try {
      const ps = await runSam(["ps", "--json", "--config", configFile], { cwd: elsewhere })
      expect(ps.code).toBe(0)
      expect(ps.stderr).toBe(
        `sam: warning: the config ${configFile} does not validate (${configFile}:${typoAt()} services.web.helth_check: unknown key "helth_check" (did you mean "health_check"?)); ` +
          `using the SAM recorded in ${join(p.dir, "state", "api.json")} (\`sam validate\` lists every problem)\n`,
      )
      expect(JSON.parse(ps.stdout)).toMatchObject([{ id: "web", state: "running" }])
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it("a state_dir that is itself unusable is not guessed at: the record SAM keeps finds it, else the config does not load (exit 2)", async () => {
    writeConfig("helth_check", 42)
    // The state dir the running SAM recorded for this config in the user's cache (runPointer.ts).
    const recorded = await runSam(["ps"], { cwd: p.dir })
    expect(recorded.code).toBe(0)
    expect(recorded.stderr).toContain("using the SAM recorded in state/api.json")
    // Without that record (another user's cache): nothing is guessed.
    const cache = mkdtempSync(join(tmpdir(), "sam-no-record-"))
    const ps = await runSam(["ps"], { cwd: p.dir, env: { XDG_CACHE_HOME: cache } })
    rmSync(cache, { recursive: true, force: true })
    expect(ps.code).toBe(2)
    expect(ps.stderr.split("\n")[0]).toBe(
      `sam: the config ${configFile} does not load, and no running SAM is recorded in ` +
        `${join(p.dir, ".sam", "api.json")}. Fix the config (\`sam validate\` lists every problem), or point the CLI ` +
        "at SAM with --url <url>, SAM_URL=<url> or SAM_STATE_DIR=<its state dir>",
    )
    expect(ps.stdout).toBe("")
    // The layers are merged as SAM merges them: a SAM__ variable may set the state dir instead
    // (relative to the working directory, as any env override).
    const overridden = await runSam(["ps"], { cwd: p.dir, env: { SAM__runtime__state_dir: "state" } })
    expect(overridden).toMatchObject({ code: 0, stderr: warning() })
    // SAM_STATE_DIR still reaches it.
    const byEnv = await runSam(["ps"], { cwd: p.dir, env: { SAM_STATE_DIR: "state" } })
    expect(byEnv).toMatchObject({ code: 0, stderr: "" })
  })

  it("`sam shutdown` stops SAM through the broken config; then the CLI names both places it looked", async () => {
    writeConfig("helth_check")
    const shutdown = await runSam(["shutdown"], { cwd: p.dir })
    expect(shutdown.stderr).toBe(warning())
    expect(shutdown).toMatchObject({
      code: 0,
      stdout: `sam: SAM (pid ${daemon.pid}) is stopping its units, then itself\nsam: stopped\n`,
    })
    expect(await daemon.exited).toBe(0)
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(2)
    expect(ps.stderr.split("\n")[0]).toBe(
      `sam: the config ${configFile} does not load, and no running SAM is recorded in ` +
        `${join(p.dir, "state", "api.json")} or ${join(p.dir, ".sam", "api.json")}. Fix the config (\`sam validate\` lists every problem), ` +
        "or point the CLI at SAM with --url <url>, SAM_URL=<url> or SAM_STATE_DIR=<its state dir>",
    )
  })
})
