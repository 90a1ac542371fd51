// Alert history: each alert of a rule (optionally about one unit) from pending through firing to
// resolved, with its labels and annotations, for the alerting plugin and the dashboard.

import { int, json, type Row, text, textOrNull } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { AlertInput, AlertRecord, AlertState } from "./storeTypes.ts"

export interface AlertQuery {
  readonly rule?: string
  readonly unit?: string
  /** Newest first; default 100. */
  readonly limit?: number
}

export interface AlertHistoryTable {
  insert(alert: AlertInput): AlertRecord
  /** Move an alert on (pending → firing → resolved); returns the updated record. */
  update(
    id: number,
    change: { readonly state: AlertState; readonly endedAt?: string | null },
  ): AlertRecord | undefined
  list(query?: AlertQuery): ReadonlyArray<AlertRecord>
}

const fromRow = (row: Row): AlertRecord => {
  const state = text(row, "state")
  return {
    id: int(row, "id"),
    rule: text(row, "rule"),
    unit: textOrNull(row, "unit"),
    state: state === "pending" || state === "firing" ? state : "resolved",
    startedAt: text(row, "started_at"),
    endedAt: textOrNull(row, "ended_at"),
    labels: json<AlertRecord["labels"]>(row, "labels"),
    annotations: json<AlertRecord["annotations"]>(row, "annotations"),
  }
}

export const alertHistoryTable = (context: StoreContext): AlertHistoryTable => {
  const { db } = context
  const insert = db.prepare(
    `INSERT INTO alert_history (rule, unit, state, started_at, ended_at, labels, annotations)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
  const update = db.prepare(
    "UPDATE alert_history SET state = ?, ended_at = coalesce(?, ended_at) WHERE id = ? RETURNING *",
  )
  const list = db.prepare(
    `SELECT * FROM alert_history WHERE (?1 IS NULL OR rule = ?1) AND (?2 IS NULL OR unit = ?2)
     ORDER BY started_at DESC, id DESC LIMIT ?3`,
  )
  return {
    insert: (a) => {
      const { lastInsertRowid } = insert.run(
        a.rule,
        a.unit,
        a.state,
        a.startedAt,
        a.endedAt,
        JSON.stringify(a.labels),
        JSON.stringify(a.annotations),
      )
      const record: AlertRecord = { ...a, id: Number(lastInsertRowid) }
      context.emit({ table: "alert_history", value: record })
      return record
    },
    update: (id, change) => {
      const row = update.get(change.state, change.endedAt ?? null, id)
      if (row === undefined) return undefined
      const record = fromRow(row)
      context.emit({ table: "alert_history", value: record })
      return record
    },
    list: (query = {}) => list.all(query.rule ?? null, query.unit ?? null, query.limit ?? 100).map(fromRow),
  }
}
