// The processes SAM last knew running, one row per (unit, instance): upserted on spawn, removed
// on exit. After a hard death the next SAM reads them to find (and stop) what is still alive.

import { int, intOrNull, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { InstanceRecord } from "./storeTypes.ts"

export interface InstancesTable {
  get(unit: string, instance: number): InstanceRecord | undefined
  /** Record a spawn (replacing the instance's previous process). */
  upsert(record: InstanceRecord): void
  /** Forget an instance's process (it exited); true when there was one. */
  remove(unit: string, instance: number): boolean
  /** Forget every instance of a unit (one statement); returns how many. */
  removeUnit(unit: string): number
  list(): ReadonlyArray<InstanceRecord>
}

const fromRow = (row: Row): InstanceRecord => ({
  unit: text(row, "unit"),
  instance: int(row, "instance"),
  pid: int(row, "pid"),
  startTime: text(row, "start_time"),
  cell: text(row, "cell"),
  port: intOrNull(row, "port"),
  startedAt: text(row, "started_at"),
})

export const instancesTable = (context: StoreContext): InstancesTable => {
  const { db } = context
  const select = db.prepare("SELECT * FROM instances WHERE unit = ? AND instance = ?")
  const upsert = db.prepare(
    `INSERT INTO instances (unit, instance, pid, start_time, cell, port, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (unit, instance) DO UPDATE SET pid = excluded.pid, start_time = excluded.start_time,
       cell = excluded.cell, port = excluded.port, started_at = excluded.started_at`,
  )
  const remove = db.prepare("DELETE FROM instances WHERE unit = ? AND instance = ?")
  const removeUnit = db.prepare("DELETE FROM instances WHERE unit = ? RETURNING instance")
  const all = db.prepare("SELECT * FROM instances ORDER BY unit, instance")
  return {
    get: (unit, instance) => {
      const row = select.get(unit, instance)
      return row === undefined ? undefined : fromRow(row)
    },
    upsert: (r) => {
      upsert.run(r.unit, r.instance, r.pid, r.startTime, r.cell, r.port, r.startedAt)
      context.emit({ table: "instances", unit: r.unit, instance: r.instance, value: r })
    },
    remove: (unit, instance) => {
      const removed = Number(remove.run(unit, instance).changes) > 0
      if (removed) context.emit({ table: "instances", unit, instance, value: undefined })
      return removed
    },
    removeUnit: (unit) =>
      context.transaction(() => {
        const rows = removeUnit.all(unit)
        for (const row of rows)
          context.emit({ table: "instances", unit, instance: int(row, "instance"), value: undefined })
        return rows.length
      }),
    list: () => all.all().map(fromRow),
  }
}
