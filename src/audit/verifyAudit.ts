// `sam audit verify`: walks the audit log's hash chain and names the first line that breaks it:
// a changed entry (its hash no longer matches), a removed or reordered one (sequence numbers or
// `prev` links out of order), or entries cut off the end (the head file is ahead of the log).
import { createReadStream } from "node:fs"
import { readFile } from "node:fs/promises"
import { createInterface } from "node:readline"
import { type AuditEntry, type AuditHead, entryHash, GENESIS } from "./auditEntry.ts"
import { headFileOf } from "./auditLog.ts"

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly head: AuditHead }
  | {
      readonly ok: false
      readonly entries: number
      /** 1-based line of the log where the chain breaks (the line after the last one for a cut tail). */
      readonly line: number
      readonly reason: string
    }

const isEntry = (value: unknown): value is AuditEntry => {
  if (typeof value !== "object" || value === null) return false
  const e = value as Record<string, unknown>
  return (
    typeof e.seq === "number" &&
    typeof e.at === "string" &&
    typeof e.action === "string" &&
    typeof e.prev === "string" &&
    typeof e.hash === "string"
  )
}

/** Check the chain of the log at `file` (and its head file when present). */
export const verifyAuditLog = async (file: string): Promise<AuditVerification> => {
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  let lineNo = 0
  let expectedSeq = 1
  let prev = GENESIS
  const fail = (reason: string): AuditVerification => {
    lines.close()
    return { ok: false, entries: expectedSeq - 1, line: lineNo, reason }
  }
  for await (const line of lines) {
    lineNo++
    if (line.trim() === "") return fail("empty line (entries are never blank; the file was edited)")
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      return fail("not a JSON entry (the line was changed)")
    }
    if (!isEntry(parsed)) return fail("not an audit entry: seq, at, action, prev or hash is missing")
    const { hash, ...body } = parsed
    if (parsed.seq !== expectedSeq) {
      const what =
        parsed.seq > expectedSeq
          ? `entry #${expectedSeq}${parsed.seq > expectedSeq + 1 ? `-#${parsed.seq - 1}` : ""} was removed or moved`
          : "entries were reordered or duplicated"
      return fail(`expected entry #${expectedSeq}, found #${parsed.seq}: ${what}`)
    }
    if (parsed.prev !== prev)
      return fail(`entry #${parsed.seq} does not follow the entry before it (prev hash differs)`)
    if (entryHash(body) !== hash)
      return fail(`entry #${parsed.seq} was changed (its hash does not match its content)`)
    prev = hash
    expectedSeq++
  }
  const entries = expectedSeq - 1
  const head = await readHead(file)
  if (head && (head.seq !== entries || head.hash !== prev)) {
    lineNo++
    if (head.seq > entries)
      return {
        ok: false,
        entries,
        line: lineNo,
        reason: `entries #${entries + 1}-#${head.seq} were removed from the end`,
      }
    return {
      ok: false,
      entries,
      line: lineNo,
      reason: `the head file records entry #${head.seq}, the log ends at #${entries}`,
    }
  }
  return { ok: true, entries, head: { seq: entries, hash: prev } }
}

const readHead = async (file: string): Promise<AuditHead | undefined> => {
  try {
    const head = JSON.parse(await readFile(headFileOf(file), "utf8")) as Partial<AuditHead>
    return typeof head.seq === "number" && typeof head.hash === "string"
      ? { seq: head.seq, hash: head.hash }
      : undefined
  } catch {
    return undefined
  }
}
