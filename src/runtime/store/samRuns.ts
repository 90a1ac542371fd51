// Every SAM that ran on this state dir: started when, stopped cleanly when (null: still running,
// or it died hard), and the cgroup dirs it made, so its successor knows what it must sweep.

import { int, json, type Row, text, textOrNull } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { SamRun } from "./storeTypes.ts"

export interface SamRunsTable {
  /** Record this SAM's start (stoppedAt null). */
  begin(run: Omit<SamRun, "stoppedAt">): void
  /** Record a clean stop: every unit is down and nothing needs sweeping. */
  markStopped(samId: string, at?: string): void
  setCgroupDirs(samId: string, cgroupDirs: ReadonlyArray<string>): void
  get(samId: string): SamRun | undefined
  /** Newest first. */
  list(): ReadonlyArray<SamRun>
  /** Runs that never stopped cleanly, except `currentSamId`: what the current SAM must sweep. */
  unclean(currentSamId: string): ReadonlyArray<SamRun>
  /** Keep the newest `count` clean runs (unclean ones stay until swept); returns how many went. */
  pruneClean(count: number): number
}

const fromRow = (row: Row): SamRun => ({
  samId: text(row, "sam_id"),
  pid: int(row, "pid"),
  startTime: text(row, "start_time"),
  startedAt: text(row, "started_at"),
  stoppedAt: textOrNull(row, "stopped_at"),
  cgroupDirs: json<ReadonlyArray<string>>(row, "cgroup_dirs"),
})

export const samRunsTable = (context: StoreContext): SamRunsTable => {
  const { db } = context
  const insert = db.prepare(
    "INSERT INTO sam_runs (sam_id, pid, start_time, started_at, stopped_at, cgroup_dirs) VALUES (?, ?, ?, ?, NULL, ?)",
  )
  const stop = db.prepare("UPDATE sam_runs SET stopped_at = ? WHERE sam_id = ?")
  const dirs = db.prepare("UPDATE sam_runs SET cgroup_dirs = ? WHERE sam_id = ?")
  const select = db.prepare("SELECT * FROM sam_runs WHERE sam_id = ?")
  const all = db.prepare("SELECT * FROM sam_runs ORDER BY started_at DESC, rowid DESC")
  const unclean = db.prepare(
    "SELECT * FROM sam_runs WHERE stopped_at IS NULL AND sam_id <> ? ORDER BY started_at DESC, rowid DESC",
  )
  const prune = db.prepare(
    `DELETE FROM sam_runs WHERE stopped_at IS NOT NULL AND sam_id NOT IN (
       SELECT sam_id FROM sam_runs WHERE stopped_at IS NOT NULL ORDER BY started_at DESC, rowid DESC LIMIT ?)`,
  )
  const get = (samId: string): SamRun | undefined => {
    const row = select.get(samId)
    return row === undefined ? undefined : fromRow(row)
  }
  const changed = (samId: string) => {
    const run = get(samId)
    if (run !== undefined) context.emit({ table: "sam_runs", value: run })
  }
  return {
    begin: (run) => {
      insert.run(run.samId, run.pid, run.startTime, run.startedAt, JSON.stringify(run.cgroupDirs))
      context.emit({ table: "sam_runs", value: { ...run, stoppedAt: null } })
    },
    markStopped: (samId, at = new Date().toISOString()) => {
      stop.run(at, samId)
      changed(samId)
    },
    setCgroupDirs: (samId, cgroupDirs) => {
      dirs.run(JSON.stringify(cgroupDirs), samId)
      changed(samId)
    },
    get,
    list: () => all.all().map(fromRow),
    unclean: (currentSamId) => unclean.all(currentSamId).map(fromRow),
    pruneClean: (count) => Number(prune.run(count).changes),
  }
}
