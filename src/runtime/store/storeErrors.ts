// What can go wrong opening the runtime store (runtimeStore.ts, migrations.ts): each error names
// the file and what to do. The state-dir lock has its own (stateDirLock.ts).
import { Data } from "effect"

/** The database was written by a newer SAM: this one would misread it, so it refuses to touch it. */
export class StoreVersionTooNew extends Data.TaggedError("StoreVersionTooNew")<{
  readonly file: string
  /** The database's PRAGMA user_version. */
  readonly found: number
  /** The newest schema version this SAM knows. */
  readonly known: number
  readonly message: string
}> {}

export const storeVersionTooNew = (file: string, found: number, known: number): StoreVersionTooNew =>
  new StoreVersionTooNew({
    file,
    found,
    known,
    message:
      `${file} has schema version ${found}, but this SAM knows versions up to ${known}: it was written ` +
      `by a newer SAM. Run that SAM (or a newer one), or move ${file} away to start with empty state`,
  })

/** The file could not be opened or migrated (not a database, permissions, disk full, ...). */
export class StoreOpenFailed extends Data.TaggedError("StoreOpenFailed")<{
  readonly file: string
  readonly cause: unknown
  readonly message: string
}> {}

export const storeOpenFailed = (file: string, cause: unknown): StoreOpenFailed =>
  new StoreOpenFailed({
    file,
    cause,
    message:
      `cannot open SAM's runtime store ${file}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
      `Check the state dir's permissions and free space; if the file is damaged, move it away ` +
      `(SAM starts with empty state)`,
  })

/** A method was called after `close()`: a finalizer ran too early, or a late callback fired. */
export class StoreClosed extends Data.TaggedError("StoreClosed")<{
  readonly file: string
  readonly message: string
}> {}
