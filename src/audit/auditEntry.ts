// One line of the audit log and its place in the hash chain: every entry carries the hash of the
// one before (`prev`) and its own `hash`, SHA-256 over its JSON without `hash`. Pure; the writer
// (auditLog.ts) and the checker (verifyAudit.ts) share these definitions.
import { createHash } from "node:crypto"

/** Who did it: a token name (API), `cli` / `embedding` for local callers. */
export interface AuditActor {
  readonly name: string
  /** viewer | operator | admin for API tokens; absent for local callers. */
  readonly role?: string | undefined
  /** api | library */
  readonly via: string
}

/** ok: done; refused: the lifecycle said no; not_found; denied: auth; invalid: bad request; failed. */
export type AuditResult = "ok" | "refused" | "not_found" | "denied" | "invalid" | "failed"

/** What a caller records; the log adds seq, at, prev and hash. */
export interface AuditRecord {
  readonly actor: AuditActor
  /** `service.stop`, `agent.start`, `capability.invoke`, `config.reload`, `POST /api/...` */
  readonly action: string
  /** Unit id, capability name or path. */
  readonly target: string
  readonly params?: Readonly<Record<string, unknown>>
  readonly result: AuditResult
  readonly detail?: string
}

export interface AuditEntry extends AuditRecord {
  readonly seq: number
  readonly at: string
  readonly prev: string
  readonly hash: string
}

/** `prev` of the first entry. */
export const GENESIS = "0".repeat(64)

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** The entry's hash: over its JSON without `hash`, keys in the order they were written. */
export const entryHash = (entry: Omit<AuditEntry, "hash">): string => sha256(JSON.stringify(entry))

/** Seal a record as entry `seq` after the entry whose hash is `prev`. */
export const sealEntry = (record: AuditRecord, seq: number, prev: string, at = new Date()): AuditEntry => {
  const body = {
    seq,
    at: at.toISOString(),
    actor: record.actor,
    action: record.action,
    target: record.target,
    ...(record.params === undefined ? {} : { params: record.params }),
    result: record.result,
    ...(record.detail === undefined ? {} : { detail: record.detail }),
    prev,
  }
  return { ...body, hash: entryHash(body) }
}

/** Hash of a line that is not a valid entry, so a writer can still chain after it. */
export const lineHash = (line: string): string => sha256(line)

/** The head file: where the chain ended at the last write, to detect entries cut off the end. */
export interface AuditHead {
  readonly seq: number
  readonly hash: string
}
