// Restart bookkeeping per instance key (restart stamps inside the intensity window, consecutive
// failures, total restarts), so a SAM restart does not reset a crash loop's count.

import { int, json, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { RestartWindowRecord } from "./storeTypes.ts"

export interface RestartWindowsTable {
  get(key: string): RestartWindowRecord | undefined
  set(record: RestartWindowRecord): void
  clear(key: string): boolean
  list(): ReadonlyArray<RestartWindowRecord>
}

const fromRow = (row: Row): RestartWindowRecord => ({
  key: text(row, "key"),
  stamps: json<ReadonlyArray<number>>(row, "stamps"),
  consecutiveFailures: int(row, "consecutive_failures"),
  restarts: int(row, "restarts"),
})

export const restartWindowsTable = ({ db }: StoreContext): RestartWindowsTable => {
  const select = db.prepare("SELECT * FROM restart_windows WHERE key = ?")
  const upsert = db.prepare(
    `INSERT INTO restart_windows (key, stamps, consecutive_failures, restarts) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET stamps = excluded.stamps,
       consecutive_failures = excluded.consecutive_failures, restarts = excluded.restarts`,
  )
  const remove = db.prepare("DELETE FROM restart_windows WHERE key = ?")
  const all = db.prepare("SELECT * FROM restart_windows ORDER BY key")
  return {
    get: (key) => {
      const row = select.get(key)
      return row === undefined ? undefined : fromRow(row)
    },
    set: (r) => {
      upsert.run(r.key, JSON.stringify(r.stamps), r.consecutiveFailures, r.restarts)
    },
    clear: (key) => Number(remove.run(key).changes) > 0,
    list: () => all.all().map(fromRow),
  }
}
