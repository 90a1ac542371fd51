// A config reload changes the control API's tokens at once: a removed token (and a browser session
// signed in with it) gets 401, an added one works, a unit restarted by the same reload does not
// inherit the added token, and the reload names what changed, including what needs a restart.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { reloadApiTokens } from "../../src/app/apiTokenReload.ts"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import { repoRoot, runSam } from "../cli/runSam.ts"
import { fixture, survivors } from "../support/runtime.ts"

const ADMIN = "reload-admin-token-0123456789"
const VIEWER = "reload-viewer-token-0123456789"
const ADDED = "reload-added-token-0123456789"

const dirs: string[] = []
const daemons: ChildProcess[] = []
afterEach(async () => {
  for (const child of daemons.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGTERM")
      await exited
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A service that writes its environment to `file` and stays up. */
const envDumper = (file: string, generation: number) => ({
  deployment: {
    mode: "process",
    command: process.execPath,
    args: [fixture("env-dump.mjs"), file, String(generation)],
  },
})

/**
 * `sam start --no-watch` of `dir`'s sam.config.json (edits apply on `sam reload` only, so the test
 * decides when), once every unit is ready: its API URL and output so far.
 */
const startDaemon = async (dir: string, env: Record<string, string>) => {
  const child = spawn(
    process.execPath,
    [join(repoRoot, "src/cli/main.ts"), "start", "--config", "sam.config.json", "--no-watch"],
    {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  daemons.push(child)
  const output = { stdout: "", stderr: "" }
  child.stderr.on("data", (c: Buffer) => {
    output.stderr += c.toString()
  })
  child.stdout.on("data", (c: Buffer) => {
    output.stdout += c.toString()
  })
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/units ready/.test(output.stdout) && /control API on /.test(output.stdout)) resolve()
    }
    child.stdout.on("data", check)
    child.once("exit", () => reject(new Error(`sam exited early:\n${output.stdout}\n${output.stderr}`)))
  })
  const url = /control API on (http:\/\/\S+)/.exec(output.stdout)?.[1] as string
  /** Resolves once the daemon's output matches `pattern`. */
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (pattern.test(output.stdout)) {
          child.stdout.off("data", check)
          resolve()
        }
      }
      child.stdout.on("data", check)
      check()
    })
  return { child, url, output, printed }
}

const statusWith = async (url: string, headers: Record<string, string>): Promise<number> => {
  const response = await fetch(`${url}/api/status`, { headers })
  await response.body?.cancel()
  return response.status
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-token-reload-"))
  dirs.push(dir)
  return dir
}

/** Poll for a file a child writes (its environment dump). */
const readWhenWritten = async (file: string, unlike?: string): Promise<string> => {
  for (let i = 0; i < 500; i++) {
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8")
      if (text !== "" && text !== unlike) return text
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${file} was not written`)
}

describe("a config reload changes security.api_tokens in the running SAM", () => {
  it("removed tokens and their sessions get 401, an added one works and no restarted unit inherits it", async () => {
    const dir = newDir()
    const dump = join(dir, "env.json")
    const config = (tokens: Record<string, unknown>, generation: number, port: number) =>
      writeFileSync(
        join(dir, "sam.config.json"),
        JSON.stringify({
          api: { host: "127.0.0.1", port },
          services: { dumper: envDumper(dump, generation) },
          security: { api_tokens: tokens },
        }),
      )
    config({ ops: { token: ADMIN, role: "admin" }, watcher: { token: VIEWER, role: "viewer" } }, 1, 0)
    const sam = await startDaemon(dir, { SAM_ADDED_TOKEN: ADDED })
    const firstEnv = await readWhenWritten(dump)
    expect(await statusWith(sam.url, bearer(VIEWER))).toBe(200)
    expect(await statusWith(sam.url, bearer(ADDED))).toBe(401)
    const login = await fetch(`${sam.url}/?token=${encodeURIComponent(VIEWER)}`, { redirect: "manual" })
    await login.body?.cancel()
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
    expect(await statusWith(sam.url, { cookie })).toBe(200)

    // The viewer token goes, one from SAM's environment comes; the dumper restarts; api.port moves.
    config(
      { ops: { token: ADMIN, role: "admin" }, added: { token: "${env.SAM_ADDED_TOKEN}", role: "operator" } },
      2,
      7,
    )
    const reloaded = sam.printed(/config reloaded: .*\n/)
    const run = await runSam(["reload", "--config", "sam.config.json"], {
      cwd: dir,
      env: { SAM_TOKEN: ADMIN, SAM_ADDED_TOKEN: ADDED },
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe("config reloaded: restarted dumper; settings security.api_tokens\n")
    expect(run.stderr).toContain(
      "sam: api.port differs from what SAM started with, and SAM reads it only when it starts: restart SAM",
    )

    expect(await statusWith(sam.url, bearer(VIEWER))).toBe(401)
    expect(await statusWith(sam.url, { cookie })).toBe(401)
    expect(await statusWith(sam.url, bearer(ADDED))).toBe(200)
    expect(await statusWith(sam.url, bearer(ADMIN))).toBe(200)
    const env = JSON.parse(await readWhenWritten(dump, firstEnv)) as Record<string, string>
    expect(env.SAM_ADDED_TOKEN).toBeUndefined()
    expect(Object.values(env)).not.toContain(ADDED)
    expect(Object.values(env)).not.toContain(ADMIN)

    await reloaded
    expect(sam.output.stdout).toContain(
      "security.api_tokens reloaded: the control API takes ops, added and no other token",
    )
    expect(sam.output.stdout).toMatch(
      /config reloaded: .*settings security\.api_tokens; needs a restart of SAM: api\.port\n/,
    )
    // No sam.config.ts here: audit verify finds ./.sam as the client commands do.
    expect(await runSam(["audit", "verify"], { cwd: dir })).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^\S+\/\.sam\/audit\.log: \d+ entries, chain intact/),
    })
    const pids = [...sam.output.stdout.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))
    const exited = new Promise<number | null>((resolve) => sam.child.once("exit", resolve))
    sam.child.kill("SIGTERM")
    expect(await exited).toBe(0)
    expect(survivors(pids)).toEqual([])
  })

  it("from none to some and back: the local token gives way to configured ones, and returns", async () => {
    const dir = newDir()
    const tokenFile = join(dir, ".sam", "token")
    const config = (tokens: Record<string, unknown> | undefined) =>
      writeFileSync(
        join(dir, "sam.config.json"),
        JSON.stringify({
          api: { host: "127.0.0.1", port: 0 },
          ...(tokens ? { security: { api_tokens: tokens } } : {}),
        }),
      )
    config(undefined)
    const sam = await startDaemon(dir, {})
    const local = readFileSync(tokenFile, "utf8").trim()
    expect(await statusWith(sam.url, bearer(local))).toBe(200)

    config({ ops: { token: ADMIN, role: "admin" } })
    // Still the local token's SAM (no watcher applied the edit), so the CLI reloads with it.
    const toConfigured = await runSam(["reload", "--config", "sam.config.json"], { cwd: dir })
    expect(toConfigured).toMatchObject({ code: 0, stdout: "config reloaded: settings security.api_tokens\n" })
    expect(existsSync(tokenFile)).toBe(false)
    expect(await statusWith(sam.url, bearer(local))).toBe(401)
    expect(await statusWith(sam.url, bearer(ADMIN))).toBe(200)

    config(undefined)
    const toLocal = await runSam(["reload", "--config", "sam.config.json"], {
      cwd: dir,
      env: { SAM_TOKEN: ADMIN },
    })
    expect(toLocal).toMatchObject({ code: 0, stdout: "config reloaded: settings security.api_tokens\n" })
    const again = readFileSync(tokenFile, "utf8").trim()
    expect(again).not.toBe(local)
    expect(await statusWith(sam.url, bearer(ADMIN))).toBe(401)
    expect(await statusWith(sam.url, bearer(again))).toBe(200)
    // The CLI finds the new local token by itself.
    expect(await runSam(["reload", "--config", "sam.config.json"], { cwd: dir })).toMatchObject({
      code: 0,
      stdout: "config reloaded: nothing changed\n",
    })
    // A token too short is an invalid config: exit 2 (as validate and start), nothing changes.
    config({ ops: { token: "short", role: "admin" } })
    const invalid = await runSam(["reload", "--config", "sam.config.json"], { cwd: dir })
    expect(invalid).toMatchObject({ code: 2, stdout: "" })
    expect(invalid.stderr).toMatch(
      /^sam: config reload rejected, still running the previous config:\n.*security\.api_tokens\.ops\.token: the token of "ops" is 5 characters long/s,
    )
    expect(invalid.stderr).toContain(
      "Fix the config and run `sam reload` again; SAM keeps running the old one.\n",
    )
    expect(await statusWith(sam.url, bearer(again))).toBe(200)
  })
})

describe("a reload that would leave a non-loopback API without tokens", () => {
  let sam: ConfiguredSam | undefined
  afterEach(async () => {
    await sam?.stop()
    sam = undefined
  })

  it("is rejected whole: the tokens, the units and the config in effect stay as they were", async () => {
    const dir = newDir()
    const file = join(dir, "sam.config.json")
    const tokens = { ops: { token: ADMIN, role: "admin" } }
    writeFileSync(file, JSON.stringify({ security: { api_tokens: tokens }, runtime: { log_level: "info" } }))
    sam = await createSam(file, { plugins: false })
    // The server's host is what the check reads: a stand-in records what it would be given (tests
    // bind loopback only).
    const given: unknown[] = []
    const off = reloadApiTokens({
      reloader: sam.reloader!,
      server: { host: "0.0.0.0", setTokens: (credentials) => given.push(credentials) },
      stateDir: join(dir, ".sam"),
      localToken: undefined,
      say: () => {},
    })
    writeFileSync(file, JSON.stringify({ runtime: { log_level: "debug" } }))
    const report = await sam.reloader!.reload()
    expect(report.ok).toBe(false)
    expect(report.ok === false && report.issues).toEqual([
      expect.objectContaining({
        path: "security.api_tokens",
        message: expect.stringContaining("SAM serves its control API on 0.0.0.0"),
      }),
    ])
    expect(given).toEqual([])
    expect(sam.logger?.level).toBe("info")
    expect(sam.reloader!.config.security.api_tokens).toEqual(tokens)
    off()
  })
})
