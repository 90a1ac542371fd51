// One state dir, one SAM, seen from the real `sam` binary: a second `sam start` on the same
// state dir is refused and touches nothing of the first; the CLI still finds the running SAM
// through <config dir>/.sam/api.json (or SAM_STATE_DIR) while the config file does not load.
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture, survivors } from "../support/runtime.ts"
import { repoRoot, runSam } from "./runSam.ts"

let dir = ""
let stateDir = ""
let daemon: ChildProcess
let exited: Promise<number | null>
let out = ""
let unitPid = 0

const config = {
  api: { port: 0 },
  services: {
    web: {
      deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
      health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
    },
  },
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sam-statedir-"))
  stateDir = join(dir, ".sam")
  writeFileSync(join(dir, "sam.config.ts"), `export default ${JSON.stringify(config)}\n`)
  daemon = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "start"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "inherit"],
  })
  exited = new Promise((resolve) => daemon.once("exit", resolve))
  unitPid = await new Promise<number>((resolve, reject) => {
    daemon.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const match = /ready web pid (\d+)/.exec(out)
      if (match && out.includes("units ready")) resolve(Number(match[1]))
    })
    daemon.once("exit", (code) => reject(new Error(`sam start exited (${code}):\n${out}`)))
  })
})

afterAll(async () => {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    daemon.kill("SIGTERM")
    await exited
  }
  if (survivors([unitPid]).length > 0) process.kill(-unitPid, "SIGKILL")
  rmSync(dir, { recursive: true, force: true })
})

/** Every file of the state dir with size and mtime; sam.log is left out (the first SAM logs). */
const snapshot = (): Array<string> =>
  readdirSync(stateDir)
    .sort()
    .map((name) => {
      // What the first SAM itself goes on writing (its log, its units' log files) is not compared.
      if (name === "sam.log" || name === "logs") return name
      const stat = statSync(join(stateDir, name))
      return `${name} ${stat.size} ${stat.mtimeMs}`
    })

describe("one state dir belongs to one SAM", () => {
  it("a second `sam start` on the same state dir exits 1 naming the first, and touches nothing", async () => {
    const apiJson = readFileSync(join(stateDir, "api.json"), "utf8")
    const before = snapshot()
    const second = await runSam(["start", "--port", "0"], { cwd: dir })
    expect(second.code).toBe(1)
    expect(second.stderr).toBe(
      `sam: state dir ${stateDir} is in use by SAM pid ${daemon.pid}: SAM is running already (it applies edits to the config by itself; \`sam reload\` applies them now, \`sam ps\` shows its units, \`sam shutdown\` stops it)\n`,
    )
    expect(second.stdout).toBe("")
    expect(snapshot()).toEqual(before)
    expect(readFileSync(join(stateDir, "api.json"), "utf8")).toBe(apiJson)
    expect(survivors([unitPid])).toEqual([unitPid])
    const ps = await runSam(["ps", "--json"], { cwd: dir })
    expect(ps.code).toBe(0)
    expect(JSON.parse(ps.stdout)).toMatchObject([{ id: "web", state: "running", pid: unitPid }])
  })

  it("with the config file broken mid-edit, `sam ps` still reaches SAM through .sam/api.json", async () => {
    writeFileSync(join(dir, "sam.config.ts"), "export default { services: { web: {\n")
    const ps = await runSam(["ps"], { cwd: dir })
    expect(ps.stderr).toBe("")
    expect(ps.code).toBe(0)
    expect(ps.stdout).toMatch(/^web\s+service\s+process\s+running/m)
  })

  it("SAM_STATE_DIR finds SAM from anywhere, after --url and SAM_URL; one with no running SAM says so", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "sam-elsewhere-"))
    try {
      const found = await runSam(["status"], { cwd: elsewhere, env: { SAM_STATE_DIR: stateDir } })
      expect(found.code).toBe(0)
      expect(found.stdout).toMatch(/^web\s+service\s+process\s+running/m)
      // A relative SAM_STATE_DIR is taken from the working directory, and wins over the config's.
      const empty = await runSam(["status"], { cwd: dir, env: { SAM_STATE_DIR: "elsewhere" } })
      expect(empty.code).toBe(1)
      expect(empty.stderr).toBe(
        `sam: no running SAM is recorded in ${join(dir, "elsewhere", "api.json")} (SAM_STATE_DIR): start SAM on that state dir, or set SAM_URL to where it runs\n`,
      )
      // SAM_URL wins over SAM_STATE_DIR, --url over SAM_URL.
      const nowhere = "http://127.0.0.1:9"
      const byUrl = await runSam(["status"], {
        cwd: elsewhere,
        env: { SAM_STATE_DIR: stateDir, SAM_URL: nowhere },
      })
      expect(byUrl.stderr).toContain(`SAM is not running at ${nowhere}`)
      const byFlag = await runSam(["status", "--url", nowhere], {
        cwd: elsewhere,
        env: { SAM_URL: "http://127.0.0.1:8" },
      })
      expect(byFlag.stderr).toContain(`SAM is not running at ${nowhere}`)
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it("once SAM has stopped, a broken config is reported with how to point the CLI at SAM, never a default port", async () => {
    daemon.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(survivors([unitPid])).toEqual([])
    const ps = await runSam(["ps"], { cwd: dir })
    expect(ps.code).toBe(2)
    const [first] = ps.stderr.split("\n")
    expect(first).toBe(
      `sam: the config ${join(dir, "sam.config.ts")} does not load, and no running SAM is recorded in ` +
        `${join(stateDir, "api.json")}. Fix the config (\`sam validate\` lists every problem), or point the CLI ` +
        "at SAM with --url <url>, SAM_URL=<url> or SAM_STATE_DIR=<its state dir>",
    )
    expect(ps.stderr).toContain("sam.config.ts")
    expect(ps.stderr).not.toContain("7070")
    // The state dir is free again: the lock died with the stopped SAM.
    expect(readdirSync(stateDir)).not.toContain("sam.lock.json")
  })
})
