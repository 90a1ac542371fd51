// The contract of containment: every process a unit starts belongs to its cell, and a cell can be
// listed, signalled, measured and killed as a whole. detectContainment.ts picks a mode; the mode
// files (cgroupV1, cgroupV2, processGroupMode) implement it; reaper.ts handles SAM's own death.
import { Data } from "effect"

export type ContainmentMode = "cgroup-v2" | "cgroup-v1" | "process-group"

export interface ContainmentInfo {
  readonly mode: ContainmentMode
  /** One line for the start banner and `sam validate`: what contains children, and why this mode. */
  readonly detail: string
  /** Direct children get SIGKILL from the kernel when SAM's main thread dies (setpriv --pdeathsig). */
  readonly parentDeathSignal: boolean
}

/** What a SAM must leave in its runtime store so that the next start can sweep after it. */
export interface ContainmentRecord {
  readonly samId: string
  readonly samPid: number
  /** /proc start time of samPid: a live SAM is never swept, a reused pid is not mistaken for it. */
  readonly samStartTime: string
  readonly mode: ContainmentMode
  /** SAM's own cgroup directories (`…/sam-<samId>`), one per hierarchy; empty in process-group mode. */
  readonly cgroupDirs: ReadonlyArray<string>
}

/** A cell gained its leader, or was released (process-group mode: the reaper tracks groups). */
export type CellChange =
  | { readonly type: "adopted"; readonly cell: string; readonly pid: number }
  | { readonly type: "released"; readonly cell: string; readonly pid: number }

export interface Containment {
  readonly info: ContainmentInfo
  readonly samId: string
  readonly record: ContainmentRecord
  /** A fresh cell for one incarnation of an instance; `key` names it ("notes-store#0"). */
  cell(key: string): Cell
  /** SIGKILL everything in every cell now, and every process carrying SAM_OWNER=<samId>. */
  killAll(): void
  /** killAll, wait until nothing is left (5 s at most), remove SAM's cgroup directories. */
  dispose(): Promise<void>
  /** Be told when cells gain a leader or are released (live leaders first). Returns the unsubscribe function. */
  subscribe(listener: (change: CellChange) => void): () => void
}

/** What to spawn instead of the unit's own command; pass `uid`/`gid` to spawn only when present. */
export interface WrappedCommand {
  readonly command: string
  readonly args: string[]
  /** Set only when the wrapper could not change identity itself (no setpriv on the host). */
  readonly uid?: number
  readonly gid?: number
}

export interface Cell {
  /** Unique within SAM (`notes-store-0.3`): the value of SAM_CELL. */
  readonly id: string
  /** SAM_OWNER and SAM_CELL: merge into the child's environment (last, so nothing overrides them). */
  readonly env: Readonly<Record<string, string>>
  /** The cell's cgroup directories (for limits such as pids.max); empty in process-group mode. */
  readonly cgroupDirs: ReadonlyArray<string>
  /**
   * The argv that puts the process into the cell before it can fork and (with setpriv) gives it a
   * parent-death SIGKILL; with uid/gid it also drops to that user after joining. stdio, file
   * descriptors (an IPC channel on fd 3) and the environment pass through unchanged.
   */
  wrap(command: string, args: ReadonlyArray<string>, options?: { uid?: number; gid?: number }): WrappedCommand
  /** Record the spawned leader's pid (its process group is part of the cell); joins it if needed. */
  adopt(leaderPid: number): void
  /** Live (non-zombie) pids of the whole tree. */
  members(): number[]
  /** Send `signal` to every member (graceful stop; SIGSTOP/SIGCONT for suspend). */
  signal(signal: NodeJS.Signals): void
  /** SIGKILL the whole tree; race-free against forks in the cgroup modes. Returns at once. */
  kill(): void
  /** Nothing is left: no live member, and in the cgroup modes no task still exiting either. */
  empty(): boolean
  /** Remove the cell's cgroup directories once it is empty; true when nothing is left. Idempotent. */
  release(): boolean
  /** Resident memory and CPU time summed over the live members. */
  usage(): { rssBytes: number; cpuSeconds: number }
}

/** A requested containment mode cannot be used on this host. */
export class ContainmentUnavailable extends Data.TaggedError("ContainmentUnavailable")<{
  readonly mode: ContainmentMode
  readonly message: string
}> {}

/** A containment operation failed (a cgroup directory could not be created or removed, …). */
export class ContainmentError extends Data.TaggedError("ContainmentError")<{
  readonly message: string
}> {}
