// node:sqlite, read through process.getBuiltinModule rather than imported: a static import of a
// built-in the running Node lacks (Node 20 has no node:sqlite) fails while the module graph links,
// before any of SAM's code runs, and the library's own "needs Node >= 24" (src/nodeVersion.ts)
// could never be said. Every module of the store takes DatabaseSync from here.
import type * as Sqlite from "node:sqlite"

export type DatabaseSync = Sqlite.DatabaseSync
export type SQLOutputValue = Sqlite.SQLOutputValue

export const DatabaseSync: typeof Sqlite.DatabaseSync = (
  process.getBuiltinModule("node:sqlite") as typeof Sqlite
).DatabaseSync
