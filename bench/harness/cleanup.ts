// Everything the bench starts is stopped: finalizers run last-in first-out when the run ends,
// when a step fails, and on Ctrl-C / SIGTERM. Processes are stopped by the pids the bench got
// when it started them, never by name.
import type { ChildProcess } from "node:child_process"
import { isAlive } from "../../src/runtime/os/proc.ts"

type Finalizer = () => Promise<void> | void

export class Cleanup {
  private readonly finalizers: Array<{ readonly what: string; readonly run: Finalizer }> = []

  /** Run `run` at cleanup (finalizers run in reverse order of registration). */
  add(what: string, run: Finalizer): () => void {
    const entry = { what, run }
    this.finalizers.push(entry)
    return () => {
      const at = this.finalizers.indexOf(entry)
      if (at >= 0) this.finalizers.splice(at, 1)
    }
  }

  /** Stop `child` at cleanup unless it has already exited: SIGTERM, SIGKILL after `graceMs`. */
  child(what: string, child: ChildProcess, graceMs = 5_000): () => void {
    return this.add(what, () => stopChild(child, graceMs))
  }

  /** Run every finalizer; a failing one is reported and the others still run. */
  async runAll(report: (line: string) => void): Promise<void> {
    while (this.finalizers.length > 0) {
      const entry = this.finalizers.pop()!
      try {
        await entry.run()
      } catch (error) {
        report(`bench: cleanup of ${entry.what} failed: ${String(error)}`)
      }
    }
  }
}

export const hasExited = (child: ChildProcess): boolean =>
  child.exitCode !== null || child.signalCode !== null

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export const stopChild = async (child: ChildProcess, graceMs = 5_000, signal: NodeJS.Signals = "SIGTERM") => {
  if (hasExited(child)) return
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
  await exited
  clearTimeout(timer)
}

/** SIGKILL each pid of `pids` still alive (pids the bench started, directly or through a tool). */
export const killLeft = (pids: Iterable<number>): number[] => {
  const killed: number[] = []
  for (const pid of pids) {
    if (!isAlive(pid)) continue
    try {
      process.kill(pid, "SIGKILL")
      killed.push(pid)
    } catch {
      // exited between the check and the kill
    }
  }
  return killed
}
