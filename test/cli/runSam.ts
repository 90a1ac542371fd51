// Runs the real `sam` CLI (src/cli/main.ts) in a child process, the way users run it.

import { spawn } from "node:child_process"
import { join } from "node:path"

export const repoRoot = join(import.meta.dirname, "..", "..")
const main = join(repoRoot, "src", "cli", "main.ts")

export interface SamRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const runSam = (
  args: ReadonlyArray<string>,
  options: {
    cwd?: string
    env?: Record<string, string | undefined>
    stdin?: string
    /** Options for node itself, before the script (`--import <preload>`). */
    nodeArgs?: ReadonlyArray<string>
  } = {},
): Promise<SamRun> =>
  new Promise((resolve, reject) => {
    // Only PATH and HOME from the test's own environment: SAM__* or SAM_VAULT_KEY must not leak in.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env }
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), main, ...args], {
      cwd: options.cwd ?? repoRoot,
      env,
      stdio: "pipe",
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? "")
  })

/**
 * The real `sam` CLI with a terminal for its output: a pty from script(1) (util-linux), so what
 * SAM prints only to a terminal (the login link, escaped output) shows. stdout and stderr both
 * come back as `output`, with the pty's CRLF line ends.
 */
export const runSamInTerminal = (
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ readonly code: number | null; readonly output: string }> =>
  new Promise((resolve, reject) => {
    const command = [process.execPath, main, ...args]
      .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
      .join(" ")
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: options.cwd ?? repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ["ignore", "pipe", "inherit"],
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })
