// The README tour's Logs step, run as written against the demo (this repo's sam.config.ts, with a
// temp state dir): after a `kill -9` of notes-store, `sam logs -f notes-store` shows the restarted
// notes-store's lines, the multi-unit query is prefixed, and `sam crashes` lists the kill.

import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, runSam } from "../cli/runSam.ts"
import { authHeaders } from "../support/daemon.ts"
import { docBlock } from "../support/docBlock.ts"
import { survivors } from "../support/runtime.ts"

const main = join(repoRoot, "src", "cli", "main.ts")
const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, SAM_STATE_DIR: stateDir })

let dir = ""
let stateDir = ""
let daemon: ChildProcess
let daemonOut = ""
const pids = new Set<number>()

/** A running command with its output so far and a way to wait for some of it. */
const background = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: repoRoot,
    env: env(),
    stdio: ["ignore", "pipe", "pipe"],
  })
  let text = ""
  const waiters = new Set<() => void>()
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  for (const stream of [child.stdout, child.stderr])
    stream?.on("data", (chunk: Buffer) => {
      text += chunk.toString()
      for (const w of waiters) w()
    })
  const until = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never printed ${pattern}:\n${text}`)), timeoutMs)
      const check = () => {
        if (!pattern.test(text)) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      waiters.add(check)
      check()
    })
  return { child, out: () => text, until, exited }
}

/** The commands of the README block: `npx sam a b c   # comment` → ["a", "b", "c"]. */
const tourCommands = (): string[][] =>
  docBlock("README.md", "tour-logs")
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "")
    .map((line) => {
      const words = line.split(/\s+/)
      expect(words.slice(0, 2)).toEqual(["npx", "sam"])
      return words.slice(2)
    })

const api = async <A>(path: string): Promise<A> => {
  const state = JSON.parse(readFileSync(join(stateDir, "api.json"), "utf8")) as { url: string }
  return (await (await fetch(`${state.url}${path}`, { headers: authHeaders(stateDir) })).json()) as A
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sam-tour-"))
  stateDir = join(dir, "state")
  daemon = spawn(
    process.execPath,
    [main, "start", "--config", "sam.config.ts", "--port", "0", "--set", `runtime.state_dir=${stateDir}`],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      daemonOut += chunk.toString()
      for (const match of daemonOut.matchAll(/pid (\d+)/g)) pids.add(Number(match[1]))
      if (/units ready/.test(daemonOut)) resolve()
    }
    daemon.stdout?.on("data", onData)
    daemon.stderr?.on("data", onData)
    daemon.once("exit", (code) => reject(new Error(`sam start exited (${code}):\n${daemonOut}`)))
  })
}, 90_000)

afterAll(async () => {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((resolve) => daemon.once("exit", resolve))
    daemon.kill("SIGTERM")
    await exited
  }
  expect(survivors(pids)).toEqual([])
  rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe("the README tour, Logs step", () => {
  it("after kill -9 of notes-store: sam logs -f shows the restarted one, logs of two units are prefixed, sam crashes lists the kill", async () => {
    const [follow, several, crashes] = tourCommands()
    expect(follow).toEqual(["logs", "-f", "notes-store"])
    const before = (await api<{ pid: number }>("/api/services/notes-store")).pid
    const follower = background(follow as string[])
    try {
      await follower.until(/notes-store: listening on \d+\n/)
      process.kill(before, "SIGKILL")
      // The restarted notes-store says it again, in the same `sam logs -f`.
      await follower.until(
        /notes-store: listening on \d+\n[\s\S]*notes-store: loaded \d+ seed notes[\s\S]*notes-store: listening on \d+\n/,
      )
      const after = (await api<{ pid: number; status: string }>("/api/services/notes-store")).pid
      expect(after).not.toBe(before)
      pids.add(after)
    } finally {
      follower.child.kill("SIGINT")
    }
    expect(await follower.exited).toBe(0)

    const both = await runSam(several as string[], { cwd: repoRoot, env: env() })
    expect(both.code).toBe(0)
    // python's http.server logs the seed request on stderr; notes-store says what it loaded.
    expect(both.stdout).toMatch(/^blob-store {2}\| .*"GET \/seed-notes\.json HTTP\/1\.1" 200/m)
    expect(both.stdout).toMatch(/^notes-store \| notes-store: loaded \d+ seed notes/m)

    const listed = await runSam(crashes as string[], { cwd: repoRoot, env: env() })
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^\d+ +\S+ \S+ +notes-store +SIGKILL +\S+ +exited on SIGKILL/m)
  }, 90_000)
})
