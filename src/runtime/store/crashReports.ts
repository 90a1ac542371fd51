// Crash reports: why an instance exited (code, signal, reason), how long it had run, its last log
// lines and resource use at the time. Retention helpers keep the table from growing forever.

import { int, intOrNull, json, type Row, text, textOrNull } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { CrashReport, CrashReportInput } from "./storeTypes.ts"

export interface CrashReportQuery {
  readonly unit?: string
  /** Only this instance's (with or without `unit`). */
  readonly instance?: number
  /** Only reports at or after this ISO time. */
  readonly since?: string
  /** Newest first; default 100. */
  readonly limit?: number
}

export interface CrashReportsTable {
  /** Store a report; returns it with its id. */
  insert(report: CrashReportInput): CrashReport
  /** Newest first. */
  list(query?: CrashReportQuery): ReadonlyArray<CrashReport>
  /** One report by id. */
  get(id: number): CrashReport | undefined
  /** Delete reports whose time is before `time` (ISO); returns how many. */
  deleteOlderThan(time: string): number
  /** Keep the newest `count` reports (per unit when `unit` is given); returns how many went. */
  keepNewest(count: number, unit?: string): number
}

const fromRow = (row: Row): CrashReport => ({
  id: int(row, "id"),
  unit: text(row, "unit"),
  instance: int(row, "instance"),
  time: text(row, "time"),
  failure: text(row, "failure"),
  exitCode: intOrNull(row, "exit_code"),
  signal: textOrNull(row, "signal"),
  reason: text(row, "reason"),
  uptimeMs: int(row, "uptime_ms"),
  restarts: int(row, "restarts"),
  lastLines: json<CrashReport["lastLines"]>(row, "last_lines"),
  resources: json<CrashReport["resources"]>(row, "resources"),
})

export const crashReportsTable = (context: StoreContext): CrashReportsTable => {
  const { db } = context
  const insert = db.prepare(
    `INSERT INTO crash_reports (unit, instance, time, failure, exit_code, signal, reason, uptime_ms,
       restarts, last_lines, resources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  // An absent filter is NULL, which every row passes.
  const select = db.prepare(
    `SELECT * FROM crash_reports WHERE (?1 IS NULL OR unit = ?1) AND (?2 IS NULL OR time >= ?2)
       AND (?4 IS NULL OR instance = ?4) ORDER BY time DESC, id DESC LIMIT ?3`,
  )
  const byId = db.prepare("SELECT * FROM crash_reports WHERE id = ?")
  const older = db.prepare("DELETE FROM crash_reports WHERE time < ?")
  const keepAll = db.prepare(
    "DELETE FROM crash_reports WHERE id NOT IN (SELECT id FROM crash_reports ORDER BY time DESC, id DESC LIMIT ?)",
  )
  const keepUnit = db.prepare(
    `DELETE FROM crash_reports WHERE unit = ? AND id NOT IN (
       SELECT id FROM crash_reports WHERE unit = ? ORDER BY time DESC, id DESC LIMIT ?)`,
  )
  return {
    insert: (r) => {
      const { lastInsertRowid } = insert.run(
        r.unit,
        r.instance,
        r.time,
        r.failure,
        r.exitCode,
        r.signal,
        r.reason,
        r.uptimeMs,
        r.restarts,
        JSON.stringify(r.lastLines),
        JSON.stringify(r.resources),
      )
      const report: CrashReport = { ...r, id: Number(lastInsertRowid) }
      context.emit({ table: "crash_reports", value: report })
      return report
    },
    list: (query = {}) =>
      select
        .all(query.unit ?? null, query.since ?? null, query.limit ?? 100, query.instance ?? null)
        .map(fromRow),
    get: (id) => {
      const row = byId.get(id)
      return row === undefined ? undefined : fromRow(row)
    },
    deleteOlderThan: (time) => Number(older.run(time).changes),
    keepNewest: (count, unit) =>
      Number((unit === undefined ? keepAll.run(count) : keepUnit.run(unit, unit, count)).changes),
  }
}
