// Test support for containment: which modes this host offers (with the reason when not), spawning
// a command wrapped in a cell the way the process driver will, bounded waits for a condition, and
// a cleanup that kills only pids the test learned.
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { detectContainment } from "../../src/runtime/containment/detectContainment.ts"
import type { Cell, ContainmentMode } from "../../src/runtime/containment/types.ts"
import { isAlive } from "../../src/runtime/os/proc.ts"

export interface ModeAvailability {
  readonly mode: ContainmentMode
  readonly available: boolean
  readonly reason: string
}

/** Try each mode for real (create and remove its directories) once per test file. */
export const availableModes = async (): Promise<ReadonlyArray<ModeAvailability>> => {
  const modes: ModeAvailability[] = []
  for (const mode of ["cgroup-v1", "cgroup-v2", "process-group"] as const) {
    try {
      const containment = detectContainment({ force: mode })
      await containment.dispose()
      modes.push({ mode, available: true, reason: containment.info.detail })
    } catch (error) {
      modes.push({ mode, available: false, reason: error instanceof Error ? error.message : String(error) })
    }
  }
  return modes
}

/** Poll `condition` every 20 ms until it holds or `ms` pass; returns whether it held. */
export const waitUntil = async (condition: () => boolean, ms = 3_000): Promise<boolean> => {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

export const survivors = (pids: Iterable<number>): number[] => [...pids].filter((pid) => isAlive(pid))

/** SIGKILL the pids a test learned (never anything else), ignoring those already gone. */
export const killLearned = (pids: Iterable<number>): void => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // gone
    }
  }
}

export interface Wrapped {
  readonly child: ChildProcess
  /** The first line the child prints. */
  readonly firstLine: Promise<string>
  readonly exited: Promise<void>
}

/** Spawn `command args` wrapped in `cell`, detached, with the cell's markers, and adopt it. */
export const spawnInCell = (
  cell: Cell,
  command: string,
  args: ReadonlyArray<string>,
  options: { ipc?: boolean; uid?: number; gid?: number } = {},
): Wrapped => {
  const identity = {
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  }
  const wrapped = cell.wrap(command, args, identity)
  const child = spawn(wrapped.command, wrapped.args, {
    detached: true,
    cwd: "/",
    env: { PATH: process.env.PATH ?? "", ...cell.env },
    stdio: options.ipc ? ["ignore", "pipe", "inherit", "ipc"] : ["ignore", "pipe", "inherit"],
    ...(options.ipc ? { serialization: "advanced" as const } : {}),
    ...(wrapped.uid === undefined ? {} : { uid: wrapped.uid }),
    ...(wrapped.gid === undefined ? {} : { gid: wrapped.gid }),
  })
  cell.adopt(child.pid as number)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const firstLine = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.once("line", resolve)
    child.once("exit", (code, signal) =>
      reject(new Error(`${command} exited (${code ?? signal}) before printing`)),
    )
  })
  return { child, firstLine, exited }
}

/** The pids escaping-tree.mjs reports. */
export interface TreePids {
  readonly leader: number
  readonly setsid: number
  readonly doubleFork: number
  /** In the leader's group, without any environment (so without SAM's markers). */
  readonly scrubbed: number
}

export const treePids = (tree: TreePids): number[] => [
  tree.leader,
  tree.setsid,
  tree.doubleFork,
  tree.scrubbed,
]
