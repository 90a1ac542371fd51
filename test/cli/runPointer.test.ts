// A SAM on a state dir away from its config (runtime.state_dir: ./state) is still found by the CLI
// while the config does not load (a syntax error mid-edit in sam.config.ts, a broken system.yaml
// layer): the daemon records its state dir in the user's cache, by config file (runPointer.ts).
import { type ChildProcess, spawn } from "node:child_process"
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readRunPointer, writeRunPointer } from "../../src/api/runPointer.ts"
import { fixture, survivors } from "../support/runtime.ts"
import { repoRoot, runSam } from "./runSam.ts"

let dir = ""
let cache = ""
let daemon: ChildProcess
let exited: Promise<number | null>
let unitPid = 0

const config = {
  api: { port: 0 },
  runtime: { state_dir: "./state" },
  services: {
    web: { deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] } },
  },
}
const good = `export default ${JSON.stringify(config)}\n`
const env = () => ({ XDG_CACHE_HOME: cache })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sam-pointer-"))
  cache = mkdtempSync(join(tmpdir(), "sam-pointer-cache-"))
  writeFileSync(join(dir, "sam.config.ts"), good)
  daemon = spawn(process.execPath, [join(repoRoot, "src", "cli", "main.ts"), "start"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env() },
    stdio: ["ignore", "pipe", "inherit"],
  })
  exited = new Promise((resolve) => daemon.once("exit", resolve))
  let out = ""
  unitPid = await new Promise<number>((resolve, reject) => {
    daemon.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const match = /started web pid (\d+)/.exec(out)
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
  rmSync(cache, { recursive: true, force: true })
})

describe("a SAM whose state dir is not beside its config", () => {
  it("is found while sam.config.ts does not load, and while a system.yaml layer does not parse", async () => {
    writeFileSync(join(dir, "sam.config.ts"), "export default { services: { web: {\n")
    const ps = await runSam(["ps"], { cwd: dir, env: env() })
    expect(ps.code).toBe(0)
    expect(ps.stdout).toMatch(/^web\s+service\s+process\s+running/m)
    expect(ps.stderr).toContain(`using the SAM recorded in ${join("state", "api.json")}`)
    writeFileSync(join(dir, "sam.config.ts"), good)
    writeFileSync(join(dir, "system.yaml"), "services: [oops\n")
    const broken = await runSam(["ps"], { cwd: dir, env: env() })
    expect(broken.code).toBe(0)
    expect(broken.stderr).toContain("does not load")
    rmSync(join(dir, "system.yaml"))
  })

  it("leaves no record behind once it stopped; the CLI then says the config is broken", async () => {
    expect(readdirSync(join(cache, "sam", "run"))).toHaveLength(1)
    daemon.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(readdirSync(join(cache, "sam", "run"))).toEqual([])
    writeFileSync(join(dir, "sam.config.ts"), "export default { services: { web: {\n")
    const ps = await runSam(["ps"], { cwd: dir, env: env() })
    expect(ps.code).toBe(2)
    expect(ps.stderr).toContain("does not load, and no running SAM is recorded in")
  })
})

describe("the run record, which the CLI's token follows", () => {
  const configFile = "/nonexistent/project/sam.config.ts"
  const scratch = () => {
    const root = mkdtempSync(join(tmpdir(), "sam-pointer-trust-"))
    const env = { XDG_CACHE_HOME: join(root, "cache") }
    const stateDir = join(root, "state")
    mkdirSync(stateDir, { mode: 0o700 })
    return { root, env, stateDir, runDir: join(root, "cache", "sam", "run") }
  }

  it("is taken only from a folder, a file and a state dir no one else may write", async () => {
    const { root, env, stateDir, runDir } = scratch()
    try {
      await writeRunPointer(env, configFile, stateDir)
      expect(statSync(runDir).mode & 0o777).toBe(0o700)
      expect(readRunPointer(env, configFile)).toBe(stateDir)
      // A state dir others may write could hold anyone's api.json (and so anyone's address).
      chmodSync(stateDir, 0o777)
      expect(readRunPointer(env, configFile)).toBeUndefined()
      chmodSync(stateDir, 0o700)
      // A record others may write, or in a folder they may write: not this user's SAM's.
      const [record] = readdirSync(runDir)
      chmodSync(join(runDir, record as string), 0o666)
      expect(readRunPointer(env, configFile)).toBeUndefined()
      chmodSync(join(runDir, record as string), 0o600)
      chmodSync(runDir, 0o777)
      expect(readRunPointer(env, configFile)).toBeUndefined()
      // SAM's next start narrows a folder of the user's own again.
      await writeRunPointer(env, configFile, stateDir)
      expect(statSync(runDir).mode & 0o777).toBe(0o700)
      expect(readRunPointer(env, configFile)).toBe(stateDir)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it("a symlink planted at the record's name is replaced, not written through, and not read", async () => {
    const { root, env, stateDir, runDir } = scratch()
    try {
      await writeRunPointer(env, configFile, stateDir)
      const [record] = readdirSync(runDir)
      const path = join(runDir, record as string)
      const victim = join(root, "victim.txt")
      writeFileSync(victim, "IMPORTANT\n")
      rmSync(path)
      symlinkSync(victim, path)
      expect(readRunPointer(env, configFile)).toBeUndefined()
      await writeRunPointer(env, configFile, stateDir)
      expect(readFileSync(victim, "utf8")).toBe("IMPORTANT\n")
      expect(lstatSync(path).isSymbolicLink()).toBe(false)
      expect(readRunPointer(env, configFile)).toBe(stateDir)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
