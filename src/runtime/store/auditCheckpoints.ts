// Audit checkpoints: the audit log's sequence number, entry count and chain head hash at a moment,
// so a truncated or replaced audit.log is detected even when its own chain is intact.

import { int, type Row, text } from "./sqlite.ts"
import type { StoreContext } from "./storeContext.ts"
import type { AuditCheckpoint } from "./storeTypes.ts"

export interface AuditCheckpointsTable {
  insert(checkpoint: AuditCheckpoint): void
  /** Oldest first. */
  list(): ReadonlyArray<AuditCheckpoint>
  latest(): AuditCheckpoint | undefined
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
  return {
    insert: (c) => {
      insert.run(c.seq, c.count, c.headHash, c.file, c.at)
    },
    list: () => all.all().map(fromRow),
    latest: () => {
      const row = latest.get()
      return row === undefined ? undefined : fromRow(row)
    },
  }
}
