// `sam audit verify`: walks the audit log's hash chain through its rotated files and the current
// one, and names the first line that breaks it: a changed entry (its hash no longer matches), a
// removed or reordered one (sequence numbers or `prev` links out of order), or entries cut off the
// end: the head file is ahead of the log, or the runtime store's newest checkpoint is (which still
// holds when the head file was deleted with the tail), or records another entry at its place.
import { createReadStream } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename } from "node:path"
import { createInterface } from "node:readline"
import { readLatestAuditCheckpoint } from "../runtime/store/auditCheckpoints.ts"
import type { AuditCheckpoint } from "../runtime/store/storeTypes.ts"
import { type AuditEntry, type AuditHead, entryHash, GENESIS } from "./auditEntry.ts"
import { auditFiles, stateDbBeside } from "./auditFiles.ts"
import { headFileOf } from "./auditLog.ts"

export type AuditVerification =
  | {
      readonly ok: true
      readonly entries: number
      readonly head: AuditHead
      /** The runtime store's checkpoint the log was checked against, if there is one. */
      readonly checkpoint?: AuditCheckpoint
    }
  | {
      readonly ok: false
      /** Entries that verified before the break (0 when the log was rewritten: none can be trusted). */
      readonly entries: number
      /** The chain holds but is not the one the runtime store anchored: rewritten, anywhere before. */
      readonly rewritten?: true
      /** 1-based line where the chain breaks (the line after the last one for a cut tail). */
      readonly line: number
      readonly reason: string
      /** The file that line is in, when it is a rotated file rather than the one asked for. */
      readonly file?: string
    }

export interface VerifyOptions {
  /** The newest checkpoint kept outside the log; default: read from state.db beside the log, null for none. */
  readonly checkpoint?: AuditCheckpoint | null
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

const range = (from: number, to: number) => `#${from}${to > from ? `-#${to}` : ""}`

/** Check the chain of the log at `file` (its rotated files, its head file, the store's checkpoint). */
export const verifyAuditLog = async (
  file: string,
  options: VerifyOptions = {},
): Promise<AuditVerification> => {
  const checkpoint =
    options.checkpoint === undefined
      ? readLatestAuditCheckpoint(stateDbBeside(file))
      : (options.checkpoint ?? undefined)
  let expectedSeq = 1
  let prev = GENESIS
  let lineNo = 0
  let current = file
  const fail = (reason: string): Extract<AuditVerification, { ok: false }> => ({
    ok: false,
    entries: expectedSeq - 1,
    line: lineNo,
    reason,
    ...(current === file ? {} : { file: current }),
  })
  for (const part of auditFiles(file)) {
    current = part
    lineNo = 0
    const lines = createInterface({
      input: createReadStream(part, "utf8"),
      crlfDelay: Number.POSITIVE_INFINITY,
    })
    try {
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
              ? parsed.seq - 1 > expectedSeq
                ? `entries ${range(expectedSeq, parsed.seq - 1)} were removed or moved`
                : `entry #${expectedSeq} was removed or moved`
              : "entries were reordered or duplicated"
          return fail(`expected entry #${expectedSeq}, found #${parsed.seq}: ${what}`)
        }
        if (parsed.prev !== prev)
          return fail(`entry #${parsed.seq} does not follow the entry before it (prev hash differs)`)
        if (entryHash(body) !== hash)
          return fail(`entry #${parsed.seq} was changed (its hash does not match its content)`)
        if (checkpoint && parsed.seq === checkpoint.seq && hash !== checkpoint.headHash)
          return {
            ...fail(
              `entry #${parsed.seq} is not the one the runtime store's checkpoint of ${checkpoint.at} recorded ` +
                `(its hash differs): the log was rewritten, at #${parsed.seq} or anywhere before it`,
            ),
            entries: 0,
            rewritten: true,
          }
        prev = hash
        expectedSeq++
      }
    } finally {
      lines.close()
    }
  }
  const entries = expectedSeq - 1
  lineNo++
  const head = await readHead(file)
  if (head && (head.seq !== entries || head.hash !== prev)) {
    if (head.seq > entries) return fail(`entries ${range(entries + 1, head.seq)} were removed from the end`)
    return fail(`the head file records entry #${head.seq}, the log ends at #${entries}`)
  }
  if (checkpoint && checkpoint.seq > entries)
    return fail(
      `entries ${range(entries + 1, checkpoint.seq)} were removed from the end: the runtime store's ` +
        `checkpoint of ${checkpoint.at} records entry #${checkpoint.seq} (in ${checkpoint.file}), ` +
        `the log ends at #${entries}${head ? "" : ` and its head file ${basename(headFileOf(file))} is gone`}`,
    )
  return {
    ok: true,
    entries,
    head: { seq: entries, hash: prev },
    ...(checkpoint === undefined ? {} : { checkpoint }),
  }
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
