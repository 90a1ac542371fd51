// The append-only audit log: who did what to which unit, when, and how it ended, as JSON lines in
// <state_dir>/audit.log, each sealed into a SHA-256 hash chain (auditEntry.ts). Appends never throw
// and never block the caller: they are queued and written in batches, in order; `settled()` waits
// for the disk. `<file>.head` records where the chain ended so a cut-off tail is detected too.
import { appendFile, mkdir, open, readFile, rename, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  GENESIS,
  lineHash,
  sealEntry,
} from "./auditEntry.ts"

export interface AuditLogOptions {
  /** Told about a failed write (the entries of that batch are lost; the chain stays intact). */
  readonly onError?: (error: unknown) => void
}

export const headFileOf = (file: string): string => `${file}.head`

/** Bytes read from the end of an existing log to find where its chain ends. */
const tailBytes = 64 * 1024

export class AuditLog {
  readonly file: string
  private seq: number
  private prev: string
  private pending: AuditRecord[] = []
  private writing: Promise<void> = Promise.resolve()
  private readonly onError: (error: unknown) => void

  private constructor(file: string, head: AuditHead, options: AuditLogOptions) {
    this.file = file
    this.seq = head.seq
    this.prev = head.hash
    this.onError = options.onError ?? (() => {})
  }

  /** Open (or create) the log at `file`, continuing the chain of what is already there. */
  static async open(file: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    await mkdir(dirname(file), { recursive: true })
    return new AuditLog(file, await chainEnd(file), options)
  }

  /** Queue `record`; it is written after everything appended before it. */
  append(record: AuditRecord): void {
    this.pending.push(record)
    if (this.pending.length === 1) this.writing = this.writing.then(() => this.flush())
  }

  /** Resolves once every record appended so far is written (or reported as failed). */
  settled(): Promise<void> {
    return this.writing
  }

  /** The last entry written: its sequence number and hash. */
  head(): AuditHead {
    return { seq: this.seq, hash: this.prev }
  }

  private async flush(): Promise<void> {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    let seq = this.seq
    let prev = this.prev
    const entries: AuditEntry[] = batch.map((record) => {
      const entry = sealEntry(record, ++seq, prev)
      prev = entry.hash
      return entry
    })
    try {
      await appendFile(this.file, entries.map((e) => `${JSON.stringify(e)}\n`).join(""), { mode: 0o600 })
      this.seq = seq
      this.prev = prev
      const head = headFileOf(this.file)
      await writeFile(`${head}.tmp`, `${JSON.stringify({ seq, hash: prev })}\n`, { mode: 0o600 })
      await rename(`${head}.tmp`, head)
    } catch (error) {
      this.onError(error)
    }
  }
}

/** Where the chain of an existing log ends (GENESIS for a missing or empty log). */
const chainEnd = async (file: string): Promise<AuditHead> => {
  const last = await lastLine(file)
  if (last === undefined) return { seq: 0, hash: GENESIS }
  try {
    const entry = JSON.parse(last) as Partial<AuditEntry>
    if (typeof entry.seq === "number" && typeof entry.hash === "string")
      return { seq: entry.seq, hash: entry.hash }
  } catch {
    // A damaged last line: chain after it anyway; `sam audit verify` reports it.
  }
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l !== "").length
  return { seq: lines, hash: lineHash(last) }
}

const lastLine = async (file: string): Promise<string | undefined> => {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(file, "r")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error
  }
  try {
    const { size } = await handle.stat()
    const length = Math.min(size, tailBytes)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    const lines = buffer
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
    return lines.at(-1)
  } finally {
    await handle.close()
  }
}
