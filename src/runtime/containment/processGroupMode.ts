// Containment without cgroups: a cell is its leader's process group (SAM spawns it detached)
// plus every process whose environment carries the cell's markers, which setsid and double forks
// keep. A process that both leaves the group and clears its environment escapes (docs/CONTAINMENT.md).
import { isAlive } from "../os/proc.ts"
import { liveGroupMembers, signalGroup } from "../processGroup.ts"
import { killUntilGone } from "./killing.ts"
import { markedProcesses } from "./markers.ts"
import { type CellBackend, type ModeBackend, unique } from "./modeBackend.ts"

export const processGroupMode = (samId: string, why: string): ModeBackend => ({
  mode: "process-group",
  description: `process groups + SAM_OWNER/SAM_CELL environment markers (${why})`,
  cgroupDirs: [],
  createCell: (cellId): CellBackend => {
    let leader: number | undefined
    const pids = () =>
      unique([...(leader === undefined ? [] : liveGroupMembers(leader)), ...markedProcesses(samId, cellId)])
    return {
      cgroupDirs: [],
      joinFiles: [],
      pids,
      empty: () => !pids().some(isAlive),
      adopt: (leaderPid) => {
        leader = leaderPid
      },
      kill: () =>
        void killUntilGone(pids, 20, () => {
          if (leader !== undefined) signalGroup(leader, "SIGKILL")
        }),
      remove: () => true,
    }
  },
  killAll: () => void killUntilGone(() => markedProcesses(samId)),
  removeTop: () => true,
})
