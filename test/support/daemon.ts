// Runs the real `sam start` daemon in a child process on a temp project, the way operators do,
// and talks to it through its control API (the address it records in <state_dir>/api.json).
// Every daemon and every pid it reported is tracked, so a test can check nothing is left.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, expect } from "vitest"
import { repoRoot } from "../cli/runSam.ts"
import { survivors } from "./runtime.ts"

const main = join(repoRoot, "src", "cli", "main.ts")

export const fixturePath = (name: string): string => join(repoRoot, "test", "fixtures", name)

/** The Authorization header for the SAM of `stateDir` (its local token), for raw fetches. */
export const authHeaders = (stateDir: string): Record<string, string> => {
  const tokenFile = join(stateDir, "token")
  return existsSync(tokenFile) ? { authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` } : {}
}

export interface Daemon {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything printed so far. */
  output(): string
  /** Resolves once the output contains `text` (or matches it); rejects if SAM exits first. */
  waitForOutput(text: string | RegExp): Promise<void>
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>
  /** A control API call; resolves with status and parsed body. */
  api<A = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: A }>
}

export interface Project {
  readonly dir: string
  readonly stateDir: string
  /** Write the config file (JSON) the daemon runs. */
  writeConfig(config: unknown): void
  start(args?: ReadonlyArray<string>, env?: Record<string, string>): Promise<Daemon>
  /** Every pid a daemon of this project ever reported for a unit, plus the daemons themselves. */
  readonly pids: Set<number>
  /** Stop every daemon still running (SIGTERM, then SIGKILL), and remove the project. */
  cleanup(): Promise<number[]>
}

const untilExit = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once("exit", (code) => resolve(code))
  })

/**
 * `entry`: what `sam start` runs: the CLI's sources (default) or the `sam` executable,
 * bin/sam.js, as a user's `npx sam` does.
 */
export const project = (configFile = "sam.config.json", entry: "sources" | "bin" = "sources"): Project => {
  const executable = entry === "bin" ? join(repoRoot, "bin", "sam.js") : main
  const dir = mkdtempSync(join(tmpdir(), "sam-project-"))
  const stateDir = join(dir, ".sam")
  const daemons: Daemon[] = []
  const pids = new Set<number>()
  const self: Project = {
    dir,
    stateDir,
    pids,
    writeConfig: (config) => writeFileSync(join(dir, configFile), JSON.stringify(config, null, 2)),
    start: async (args = [], env = {}) => {
      const child = spawn(
        process.execPath,
        [executable, "start", "--config", configFile, "--port", "0", ...args],
        {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        },
      )
      let text = ""
      const waiters = new Set<() => void>()
      const onData = (chunk: Buffer) => {
        text += chunk.toString()
        for (const match of text.matchAll(/pid (\d+)/g)) pids.add(Number(match[1]))
        for (const waiter of waiters) waiter()
      }
      child.stdout?.on("data", onData)
      child.stderr?.on("data", onData)
      const exited = untilExit(child)
      const daemon: Daemon = {
        child,
        pid: child.pid as number,
        output: () => text,
        exited,
        waitForOutput: (wanted) =>
          new Promise((resolve, reject) => {
            const check = () => {
              const hit = typeof wanted === "string" ? text.includes(wanted) : wanted.test(text)
              if (!hit) return
              waiters.delete(check)
              resolve()
            }
            waiters.add(check)
            check()
            void exited.then(() => {
              if (waiters.delete(check))
                reject(new Error(`sam exited before printing ${String(wanted)}:\n${text}`))
            })
          }),
        api: async (method, path, body) => {
          const state = JSON.parse(readFileSync(join(stateDir, "api.json"), "utf8")) as { url: string }
          const response = await fetch(`${state.url}${path}`, {
            method,
            headers: {
              ...(body === undefined ? {} : { "content-type": "application/json" }),
              ...authHeaders(stateDir),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          })
          const raw = await response.text()
          return { status: response.status, body: (raw ? JSON.parse(raw) : undefined) as never }
        },
      }
      pids.add(daemon.pid)
      daemons.push(daemon)
      return daemon
    },
    cleanup: async () => {
      for (const d of daemons) {
        if (d.child.exitCode === null && d.child.signalCode === null) {
          d.child.kill("SIGTERM")
          const code = await Promise.race([d.exited, new Promise((r) => setTimeout(() => r("late"), 15_000))])
          if (code === "late") d.child.kill("SIGKILL")
          await d.exited
        }
      }
      const left = survivors(pids)
      rmSync(dir, { recursive: true, force: true })
      return left
    },
  }
  return self
}

/** Resolves once SAM's status of `unit` satisfies `predicate` (polled through the API). */
/** A unit as GET /api/{kind}/:id answers (the fields tests read most; `T` for more). */
export interface UnitBody {
  readonly status: string
  readonly ready: boolean
  readonly pid: number | null
  readonly restarts: number
}

export const untilUnit = async <T extends UnitBody = UnitBody>(
  daemon: Daemon,
  kind: "services" | "agents",
  unit: string,
  predicate: (status: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { status, body } = await daemon.api<T>("GET", `/api/${kind}/${unit}`)
    if (status === 200 && predicate(body)) return body
    if (Date.now() > deadline)
      throw new Error(`${unit} did not reach the awaited state: ${JSON.stringify(body)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * A project per test (`project()`'s arguments), cleaned up after each: every daemon stopped, and
 * nothing it started may be left running.
 */
export const projectPerTest = (): typeof project => {
  let current: Project | undefined
  afterEach(async () => {
    const left = await current?.cleanup()
    current = undefined
    expect(left ?? []).toEqual([])
  })
  return (...args) => {
    current = project(...args)
    return current
  }
}
