// Schema versions of the runtime store by PRAGMA user_version: an ordered list of migrations,
// migration i taking the database from version i to i+1, each in its own transaction.
import type { DatabaseSync } from "node:sqlite"
import { storeVersionTooNew } from "./storeErrors.ts"

/** One schema step; runs inside a transaction together with the user_version bump. */
export type Migration = (db: DatabaseSync) => void

export interface MigrationResult {
  readonly from: number
  readonly to: number
}

export const schemaVersion = (db: DatabaseSync): number => {
  const row = db.prepare("PRAGMA user_version").get() as { user_version?: number } | undefined
  return Number(row?.user_version ?? 0)
}

/**
 * Bring `db` to version `migrations.length`. A step that throws rolls back alone: the database
 * stays at the last version that completed, and the error propagates. A database newer than the
 * list is refused (StoreVersionTooNew) without a write.
 */
export const migrate = (
  db: DatabaseSync,
  file: string,
  migrations: ReadonlyArray<Migration>,
): MigrationResult => {
  const from = schemaVersion(db)
  if (from > migrations.length) throw storeVersionTooNew(file, from, migrations.length)
  for (;;) {
    db.exec("BEGIN IMMEDIATE")
    try {
      // Read again under the write lock: another connection may have migrated meanwhile.
      const version = schemaVersion(db)
      if (version > migrations.length) throw storeVersionTooNew(file, version, migrations.length)
      if (version === migrations.length) {
        db.exec("COMMIT")
        return { from, to: version }
      }
      migrations[version]?.(db)
      // user_version lives in the database header, so it commits (or rolls back) with the step.
      db.exec(`PRAGMA user_version = ${version + 1}`)
      db.exec("COMMIT")
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK")
      throw error
    }
  }
}
