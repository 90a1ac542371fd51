// The port assigned to each (unit, instance), so a unit keeps its port across SAM restarts and
// config reloads (clients and firewall rules keep working); cleared when the unit goes away.

import { int, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { PortAssignment } from "./storeTypes.ts"

export interface PortsTable {
  get(unit: string, instance: number): number | undefined
  set(unit: string, instance: number, port: number): void
  /** Forget every port of `unit`; returns how many were assigned. */
  clear(unit: string): number
  list(): ReadonlyArray<PortAssignment>
}

const fromRow = (row: Row): PortAssignment => ({
  unit: text(row, "unit"),
  instance: int(row, "instance"),
  port: int(row, "port"),
})

export const portsTable = (context: StoreContext): PortsTable => {
  const { db } = context
  const select = db.prepare("SELECT port FROM ports WHERE unit = ? AND instance = ?")
  const upsert = db.prepare(
    `INSERT INTO ports (unit, instance, port) VALUES (?, ?, ?)
     ON CONFLICT (unit, instance) DO UPDATE SET port = excluded.port`,
  )
  const clear = db.prepare("DELETE FROM ports WHERE unit = ? RETURNING instance")
  const all = db.prepare("SELECT * FROM ports ORDER BY unit, instance")
  return {
    get: (unit, instance) => {
      const row = select.get(unit, instance)
      return row === undefined ? undefined : int(row, "port")
    },
    set: (unit, instance, port) => {
      upsert.run(unit, instance, port)
      context.emit({ table: "ports", unit, instance, port })
    },
    clear: (unit) =>
      context.transaction(() => {
        const rows = clear.all(unit)
        for (const row of rows)
          context.emit({ table: "ports", unit, instance: int(row, "instance"), port: undefined })
        return rows.length
      }),
    list: () => all.all().map(fromRow),
  }
}
