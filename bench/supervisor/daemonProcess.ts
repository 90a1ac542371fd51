// A supervisor the bench runs as a child process (sam start, SAM embedded in a script): its
// output goes to a file in the temp dir and is quoted when it exits early or does not stop.
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { hasExited, stopChild } from "../harness/cleanup.ts"
import type { BenchContext } from "../harness/context.ts"
import type { RunningTool } from "./tool.ts"

export interface DaemonRun extends RunningTool {
  readonly child: ChildProcess
  /** The last lines it wrote (for error messages). */
  tail(): string
}

/** Spawn `node args` in `dir` with only PATH and HOME from the bench's environment. */
export const startDaemon = (
  what: string,
  args: ReadonlyArray<string>,
  dir: string,
  context: BenchContext,
): DaemonRun => {
  const logFile = join(dir, "output.log")
  const fd = openSync(logFile, "a")
  const child = spawn(context.node, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    stdio: ["ignore", fd, fd],
  })
  closeSync(fd)
  const tail = () => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-15).join("\n")
    } catch {
      return "(no output)"
    }
  }
  // SIGTERM is a clean stop (every unit stopped, SAM exits 0); SIGKILL after 30 s.
  const stop = async () => {
    await stopChild(child, 30_000)
  }
  const forget = context.cleanup.child(what, child, 30_000)
  return {
    child,
    supervisorPid: child.pid,
    tail,
    problem: () =>
      hasExited(child) ? `${what} exited (${child.exitCode ?? child.signalCode}):\n${tail()}` : undefined,
    stop: async () => {
      forget()
      await stop()
      if (child.exitCode !== 0)
        context.log(`bench: ${what} stopped with ${child.exitCode ?? child.signalCode}:\n${tail()}`)
    },
  }
}
