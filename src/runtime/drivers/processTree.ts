// Everything a started process became, as one thing to signal, watch, measure and kill: a
// containment cell when SAM runs with containment (cgroup or environment markers: setsid and
// double forks included), else the process group the leader heads. processDriver.ts uses it.
import type { Cell } from "../containment/index.ts"
import { cpuSeconds, readStat, residentBytes, sumOver } from "../os/proc.ts"
import { liveGroupMembers, signalGroup } from "../processGroup.ts"

export interface ProcessTree {
  /** Live (non-zombie) processes of the tree. */
  members(): ReadonlyArray<number>
  signal(signal: NodeJS.Signals): void
  /** SIGKILL the whole tree (race-free against forks where the mode allows). */
  kill(): void
  alive(): boolean
  /** Remove what the tree held (cgroup dirs) once it is empty; true when nothing is left. */
  release(): boolean
  /** Resident memory and CPU time summed over the tree. */
  usage(): { rssBytes: number; cpuSeconds: number }
}

const stopped = (pid: number) => {
  const state = readStat(pid)?.state
  return state === undefined || state === "T" || state === "t"
}

/** True when every live process of the tree is stopped (SIGSTOP took effect). */
export const treeStopped = (tree: ProcessTree): boolean => tree.members().every(stopped)

const usageOf = (pids: ReadonlyArray<number>) => ({
  rssBytes: sumOver(pids, residentBytes) ?? 0,
  cpuSeconds: sumOver(pids, cpuSeconds) ?? 0,
})

export const cellTree = (cell: Cell): ProcessTree => ({
  members: () => cell.members(),
  signal: (signal) => cell.signal(signal),
  kill: () => cell.kill(),
  alive: () => !cell.empty(),
  release: () => cell.release(),
  usage: () => cell.usage(),
})

export const groupTree = (pgid: number): ProcessTree => ({
  members: () => liveGroupMembers(pgid),
  signal: (signal) => void signalGroup(pgid, signal),
  kill: () => void signalGroup(pgid, "SIGKILL"),
  alive: () => liveGroupMembers(pgid).length > 0,
  release: () => liveGroupMembers(pgid).length === 0,
  usage: () => usageOf(liveGroupMembers(pgid)),
})
