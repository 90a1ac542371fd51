// What every table module of the runtime store gets: the connection, atomic transactions (nested
// ones as savepoints), and `emit`, which holds a change back until its transaction commits.
import type { DatabaseSync } from "node:sqlite"
import type { ChangeFeed } from "./storeChanges.ts"
import type { StoreChange } from "./storeTypes.ts"

export interface StoreContext {
  readonly db: DatabaseSync
  /**
   * Run `body` (synchronous) atomically: every write in it commits together or not at all, and
   * its changes reach watchers only after the commit. Nested calls are savepoints.
   */
  transaction<A>(body: () => A): A
  /** Report a change: now outside a transaction, after the outermost commit inside one. */
  emit(change: StoreChange): void
}

export const makeStoreContext = (db: DatabaseSync, feed: ChangeFeed): StoreContext => {
  let depth = 0
  let pending: Array<StoreChange> = []

  const transaction = <A>(body: () => A): A => {
    const outer = depth === 0
    const savepoint = `sam_${depth}`
    // IMMEDIATE takes the write lock up front, so a transaction never fails half-way to upgrade.
    db.exec(outer ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`)
    const mark = pending.length
    depth++
    let result: A
    try {
      result = body()
      if (result instanceof Promise)
        throw new Error("runtime store: a transaction body must be synchronous (it returned a Promise)")
      db.exec(outer ? "COMMIT" : `RELEASE ${savepoint}`)
    } catch (error) {
      pending.length = mark
      if (outer) {
        if (db.isTransaction) db.exec("ROLLBACK")
      } else db.exec(`ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`)
      throw error
    } finally {
      depth--
    }
    if (outer) {
      const committed = pending
      pending = []
      for (const change of committed) feed.deliver(change)
    }
    return result
  }

  return {
    db,
    transaction,
    emit: (change) => {
      if (depth > 0) pending.push(change)
      else feed.deliver(change)
    },
  }
}
