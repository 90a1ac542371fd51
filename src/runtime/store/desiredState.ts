// Desired state per unit: what an operator (or the API, CLI, config) last asked a unit to be.
// The rule SAM applies: an operator's stop/start is kept across SAM restarts of any kind (clean
// stop, crash, SIGKILL, reboot) until the operator changes it or the unit's config changes, i.e.
// its configHash differs from the one recorded; then the record is cleared and the config's own
// intent applies again (`clearStale` does this in one transaction at start and on every reload).
import { Effect, SubscriptionRef } from "effect"
import { type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { DesiredState } from "./storeTypes.ts"

export interface DesiredStateTable {
  get(unit: string): DesiredState | undefined
  /** Insert or replace the unit's record. */
  set(record: DesiredState): void
  /** Forget the unit's record; true when there was one. */
  clear(unit: string): boolean
  list(): ReadonlyArray<DesiredState>
  /**
   * Clear every record whose unit is gone from `configHashes` or whose hash differs from the
   * unit's current one (one transaction); returns the cleared records.
   */
  clearStale(configHashes: ReadonlyMap<string, string>): ReadonlyArray<DesiredState>
  /**
   * The unit's desired state as a SubscriptionRef: its current value, then every committed
   * change (`SubscriptionRef.changes`). One ref per unit, kept until the store closes; read it,
   * do not set it (writes go through `set`/`clear`).
   */
  watch(unit: string): SubscriptionRef.SubscriptionRef<DesiredState | undefined>
}

const fromRow = (row: Row): DesiredState => {
  const state = text(row, "state")
  return {
    unit: text(row, "unit"),
    state: state === "running" ? "running" : "stopped",
    by: text(row, "by"),
    at: text(row, "at"),
    configHash: text(row, "config_hash"),
  }
}

export const desiredStateTable = (
  context: StoreContext,
  onCommitted: (listener: (unit: string, value: DesiredState | undefined) => void) => void,
): DesiredStateTable => {
  const { db } = context
  const select = db.prepare("SELECT * FROM desired_state WHERE unit = ?")
  const upsert = db.prepare(
    `INSERT INTO desired_state (unit, state, by, at, config_hash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (unit) DO UPDATE SET state = excluded.state, by = excluded.by, at = excluded.at,
       config_hash = excluded.config_hash`,
  )
  const remove = db.prepare("DELETE FROM desired_state WHERE unit = ?")
  const all = db.prepare("SELECT * FROM desired_state ORDER BY unit")
  const refs = new Map<string, SubscriptionRef.SubscriptionRef<DesiredState | undefined>>()

  const get = (unit: string): DesiredState | undefined => {
    const row = select.get(unit)
    return row === undefined ? undefined : fromRow(row)
  }
  const clear = (unit: string): boolean => {
    const removed = Number(remove.run(unit).changes) > 0
    if (removed) context.emit({ table: "desired_state", unit, value: undefined })
    return removed
  }

  // Refs follow committed changes only, like every other watcher.
  onCommitted((unit, value) => {
    const ref = refs.get(unit)
    if (ref !== undefined) Effect.runSync(SubscriptionRef.set(ref, value))
  })

  return {
    get,
    set: (record) => {
      upsert.run(record.unit, record.state, record.by, record.at, record.configHash)
      context.emit({ table: "desired_state", unit: record.unit, value: record })
    },
    clear,
    list: () => all.all().map(fromRow),
    clearStale: (configHashes) =>
      context.transaction(() => {
        const stale = all
          .all()
          .map(fromRow)
          .filter((r) => configHashes.get(r.unit) !== r.configHash)
        for (const record of stale) clear(record.unit)
        return stale
      }),
    watch: (unit) => {
      let ref = refs.get(unit)
      if (ref === undefined) {
        ref = Effect.runSync(SubscriptionRef.make(get(unit)))
        refs.set(unit, ref)
      }
      return ref
    },
  }
}
