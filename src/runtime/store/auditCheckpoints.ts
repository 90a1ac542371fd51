// Audit checkpoints: the audit log's sequence number, entry count and chain head hash at a moment,
// so a truncated or replaced audit.log is detected even when its own chain is intact. The audit
// log writes one per batch; `sam audit verify` reads the newest with readLatestAuditCheckpoint.

import { existsSync } from "node:fs"
import { DatabaseSync } from "./nodeSqlite.ts"
import { int, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { AuditCheckpoint } from "./storeTypes.ts"

export interface AuditCheckpointsTable {
  insert(checkpoint: AuditCheckpoint): void
  /** Oldest first. */
  list(): ReadonlyArray<AuditCheckpoint>
  latest(): AuditCheckpoint | undefined
  /** Keep only the newest `keep` checkpoints (the audit log prunes as it goes). */
  prune(keep: number): void
}

const fromRow = (row: Row): AuditCheckpoint => ({
  seq: int(row, "seq"),
  count: int(row, "count"),
  headHash: text(row, "head_hash"),
  file: text(row, "file"),
  at: text(row, "at"),
})

export const auditCheckpointsTable = ({ db }: StoreContext): AuditCheckpointsTable => {
  const insert = db.prepare(
    "INSERT INTO audit_checkpoints (seq, count, head_hash, file, at) VALUES (?, ?, ?, ?, ?)",
  )
  const all = db.prepare("SELECT * FROM audit_checkpoints ORDER BY seq")
  const latest = db.prepare("SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
  const prune = db.prepare(
    "DELETE FROM audit_checkpoints WHERE seq NOT IN (SELECT seq FROM audit_checkpoints ORDER BY seq DESC LIMIT ?)",
  )
  return {
    insert: (c) => {
      insert.run(c.seq, c.count, c.headHash, c.file, c.at)
    },
    list: () => all.all().map(fromRow),
    latest: () => {
      const row = latest.get()
      return row === undefined ? undefined : fromRow(row)
    },
    prune: (keep) => {
      prune.run(keep)
    },
  }
}

/**
 * The newest checkpoint in the runtime store `dbFile`, read-only (a running SAM may hold it open):
 * undefined when there is no store, or no checkpoint in it yet.
 */
export const readLatestAuditCheckpoint = (dbFile: string): AuditCheckpoint | undefined => {
  if (!existsSync(dbFile)) return undefined
  const db = new DatabaseSync(dbFile, { readOnly: true, timeout: 5_000 })
  try {
    const hasTable = db
      .prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'audit_checkpoints'")
      .get()
    if (hasTable === undefined) return undefined
    const row = db.prepare("SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").get()
    return row === undefined ? undefined : fromRow(row)
  } finally {
    db.close()
  }
}
