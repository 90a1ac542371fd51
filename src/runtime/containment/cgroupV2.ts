// cgroup v2 containment: a cell is a group under `<SAM's own cgroup>/sam-<samId>` in the unified
// hierarchy; every descendant inherits it. Kill is `cgroup.kill` (Linux ≥ 5.14), else freeze
// (`cgroup.freeze`, ≥ 5.2), SIGKILL every member, thaw. No controllers are needed for either.
import { existsSync } from "node:fs"
import { join } from "node:path"
import { cgroupPids, createCgroup, readControl, removeCgroupTree, writeControl } from "./cgroupFiles.ts"
import { killPid, killUntilGone, waitSync } from "./killing.ts"
import type { CellBackend, ModeBackend } from "./modeBackend.ts"
import { ContainmentUnavailable } from "./types.ts"

/** Kill everything in the v2 cgroup `dir` and below. Returns the pids signalled when it had to list them. */
export const killCgroupV2 = (dir: string): number[] => {
  if (writeControl(join(dir, "cgroup.kill"), "1")) return []
  const list = () => cgroupPids(dir)
  const frozen =
    writeControl(join(dir, "cgroup.freeze"), "1") &&
    waitSync(() => /^frozen 1$/m.test(readControl(join(dir, "cgroup.events")) ?? ""), 500)
  const signalled = list()
  for (const pid of signalled) killPid(pid)
  writeControl(join(dir, "cgroup.freeze"), "0")
  return frozen ? signalled : [...new Set([...signalled, ...killUntilGone(list)])]
}

export const cgroupV2 = (own: string, samId: string, hybrid: boolean): ModeBackend => {
  const top = join(own, `sam-${samId}`)
  createCgroup(top)
  const kill = existsSync(join(top, "cgroup.kill"))
    ? "cgroup.kill"
    : existsSync(join(top, "cgroup.freeze"))
      ? "freeze + kill"
      : undefined
  if (kill === undefined) {
    removeCgroupTree(top)
    throw new ContainmentUnavailable({
      mode: "cgroup-v2",
      message: `cgroup v2 at ${own} has neither cgroup.kill nor cgroup.freeze (Linux < 5.2): cannot kill a cell race-free`,
    })
  }
  return {
    mode: "cgroup-v2",
    description: `cgroup v2 under ${top} (${kill}${hybrid ? "; the unified hierarchy of a hybrid host" : ""})`,
    cgroupDirs: [top],
    createCell: (cellId): CellBackend => {
      const dir = join(top, cellId)
      createCgroup(dir)
      return {
        cgroupDirs: [dir],
        joinFiles: [join(dir, "cgroup.procs")],
        pids: () => cgroupPids(dir),
        empty: () => cgroupPids(dir).length === 0,
        adopt: (leaderPid) => {
          if (!cgroupPids(dir).includes(leaderPid)) writeControl(join(dir, "cgroup.procs"), String(leaderPid))
        },
        kill: () => void killCgroupV2(dir),
        remove: () => removeCgroupTree(dir),
      }
    },
    killAll: () => void killCgroupV2(top),
    removeTop: () => removeCgroupTree(top),
  }
}
