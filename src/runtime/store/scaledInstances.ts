// The instance count an operator (or the autoscaler) last scaled a unit to. Kept across SAM
// restarts as an operator's stop is: until the unit is scaled again, scaled back to its config's
// count, or its config changes (its configHash differs from the one recorded; the record is then
// ignored and cleared: supervisorMemory.ts).
import { type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { ScaledInstances } from "./storeTypes.ts"

export interface ScaledInstancesTable {
  get(unit: string): ScaledInstances | undefined
  /** Insert or replace the unit's record. */
  set(record: ScaledInstances): void
  /** Forget the unit's record; true when there was one. */
  clear(unit: string): boolean
  list(): ReadonlyArray<ScaledInstances>
}

const fromRow = (row: Row): ScaledInstances => ({
  unit: text(row, "unit"),
  instances: Number(row.instances),
  by: text(row, "by"),
  at: text(row, "at"),
  configHash: text(row, "config_hash"),
})

export const scaledInstancesTable = ({ db }: StoreContext): ScaledInstancesTable => {
  const select = db.prepare("SELECT * FROM scaled_instances WHERE unit = ?")
  const upsert = db.prepare(
    `INSERT INTO scaled_instances (unit, instances, by, at, config_hash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (unit) DO UPDATE SET instances = excluded.instances, by = excluded.by,
       at = excluded.at, config_hash = excluded.config_hash`,
  )
  const remove = db.prepare("DELETE FROM scaled_instances WHERE unit = ?")
  const all = db.prepare("SELECT * FROM scaled_instances ORDER BY unit")
  return {
    get: (unit) => {
      const row = select.get(unit)
      return row === undefined ? undefined : fromRow(row)
    },
    set: (r) => void upsert.run(r.unit, r.instances, r.by, r.at, r.configHash),
    clear: (unit) => Number(remove.run(unit).changes) > 0,
    list: () => all.all().map(fromRow),
  }
}
