// What each containment mode provides (cgroupV1.ts, cgroupV2.ts, processGroupMode.ts), so that
// containment.ts can build cells, markers, wrapping and usage once for all of them.
import type { ContainmentMode } from "./types.ts"

export interface CellBackend {
  readonly cgroupDirs: ReadonlyArray<string>
  /** cgroup.procs files the wrapper writes the process's pid to. */
  readonly joinFiles: ReadonlyArray<string>
  /** Pids in the cell; may include one that is exiting (callers filter with isAlive). */
  pids(): number[]
  /** Nothing of the cell is left, not even a task still exiting (a cgroup is removable then). */
  empty(): boolean
  adopt(leaderPid: number): void
  /** SIGKILL the whole cell. */
  kill(): void
  /** Remove what the cell created; true when nothing is left. */
  remove(): boolean
}

export interface ModeBackend {
  readonly mode: ContainmentMode
  /** The mode's part of ContainmentInfo.detail. */
  readonly description: string
  /** SAM's own top directories, `…/sam-<samId>`. */
  readonly cgroupDirs: ReadonlyArray<string>
  createCell(cellId: string): CellBackend
  /** SIGKILL every process in every cell at once (race-free where the mode allows). */
  killAll(): void
  /** Remove SAM's top directories (after the cells); true when nothing is left. */
  removeTop(): boolean
}

export const unique = (pids: ReadonlyArray<number>): number[] => [...new Set(pids)]
