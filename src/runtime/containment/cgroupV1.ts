// cgroup v1 containment: a cell is a group in the pids hierarchy (membership that every fork,
// setsid and double fork inherits) and the same group in the freezer hierarchy (so a kill cannot
// race a fork: FROZEN, SIGKILL every member, THAWED). SAM's groups sit under SAM's own path.
import { join } from "node:path"
import { cgroupPids, createCgroup, readControl, removeCgroupTree, writeControl } from "./cgroupFiles.ts"
import { killPid, killUntilGone, waitSync } from "./killing.ts"
import { type CellBackend, type ModeBackend, unique } from "./modeBackend.ts"

export interface V1Directories {
  readonly pids: string
  readonly freezer: string
}

/**
 * Kill everything under `freezer` (a v1 freezer cgroup) and `others` (the same group in other
 * hierarchies) without a race against forks. Returns the pids signalled.
 */
export const freezeAndKill = (freezer: string, others: ReadonlyArray<string>): number[] => {
  const list = () => unique([freezer, ...others].flatMap(cgroupPids))
  const state = join(freezer, "freezer.state")
  // A task in uninterruptible sleep (D) can hold FREEZING for long: then kill in rounds instead.
  const frozen = writeControl(state, "FROZEN") && waitSync(() => readControl(state) === "FROZEN", 500)
  const signalled = list()
  for (const pid of signalled) killPid(pid)
  writeControl(state, "THAWED")
  return frozen ? signalled : unique([...signalled, ...killUntilGone(list)])
}

export const cgroupV1 = (own: V1Directories, samId: string): ModeBackend => {
  const top: V1Directories = {
    pids: join(own.pids, `sam-${samId}`),
    freezer: join(own.freezer, `sam-${samId}`),
  }
  createCgroup(top.pids)
  try {
    createCgroup(top.freezer)
  } catch (error) {
    removeCgroupTree(top.pids)
    throw error
  }
  return {
    mode: "cgroup-v1",
    description: `cgroup v1 (pids + freezer) under ${top.pids} and ${top.freezer}`,
    cgroupDirs: [top.pids, top.freezer],
    createCell: (cellId): CellBackend => {
      const cell: V1Directories = { pids: join(top.pids, cellId), freezer: join(top.freezer, cellId) }
      createCgroup(cell.pids)
      try {
        createCgroup(cell.freezer)
      } catch (error) {
        removeCgroupTree(cell.pids)
        throw error
      }
      const pids = () => unique([...cgroupPids(cell.pids), ...cgroupPids(cell.freezer)])
      return {
        cgroupDirs: [cell.pids, cell.freezer],
        joinFiles: [join(cell.pids, "cgroup.procs"), join(cell.freezer, "cgroup.procs")],
        pids,
        empty: () => pids().length === 0,
        adopt: (leaderPid) => {
          // The wrapper has joined already, unless it could not (no setpriv and a run_as user).
          for (const dir of [cell.pids, cell.freezer]) {
            if (!cgroupPids(dir).includes(leaderPid))
              writeControl(join(dir, "cgroup.procs"), String(leaderPid))
          }
        },
        kill: () => void freezeAndKill(cell.freezer, [cell.pids]),
        remove: () => {
          const pidsGone = removeCgroupTree(cell.pids)
          return removeCgroupTree(cell.freezer) && pidsGone
        },
      }
    },
    killAll: () => void freezeAndKill(top.freezer, [top.pids]),
    removeTop: () => {
      const pidsGone = removeCgroupTree(top.pids)
      return removeCgroupTree(top.freezer) && pidsGone
    },
  }
}
