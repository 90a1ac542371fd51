// The append-only audit log: who did what to which unit, when, and how it ended, as JSON lines in
// <state_dir>/audit.log, each sealed into a SHA-256 hash chain (auditEntry.ts). Appends never throw
// and never block the caller: they are queued and written in batches, in order; `settled()` waits
// for the disk. After every batch the chain's end is recorded twice: in `<file>.head`, and as a
// checkpoint in the runtime store (`anchor`), so a cut tail is detected even with the head file
// gone. Past `maxFileBytes` the file is rotated to `<file>.<n>` and the chain goes on in a new one.
// Unauthenticated refusals are only counted (`refused`) and written per source and minute.
import { appendFile, mkdir, open, readFile, rename, stat, writeFile } from "node:fs/promises"
import { basename, dirname } from "node:path"
import type { AuditCheckpoint } from "../runtime/store/storeTypes.ts"
import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  GENESIS,
  lineHash,
  sealEntry,
} from "./auditEntry.ts"
import { rotatedFile, rotationIndexes } from "./auditFiles.ts"
import { RefusalTally, type RefusedAt } from "./refusalTally.ts"

/** Where checkpoints are kept outside the log (the runtime store's audit_checkpoints table). */
export interface AuditAnchor {
  latest(): AuditCheckpoint | undefined
  insert(checkpoint: AuditCheckpoint): void
  /** Keep only the newest `keep` checkpoints. */
  prune?(keep: number): void
}

export interface AuditLogOptions {
  /** Told about a failed write (the entries of that batch are lost; the chain stays intact). */
  readonly onError?: (error: unknown) => void
  /** Rotate the current file before it would grow past this (default 64 MiB). */
  readonly maxFileBytes?: number
  /** Keep a checkpoint of every batch here too (createSam: the runtime store). */
  readonly anchor?: AuditAnchor
  /** Told when the log ends before the anchor's last checkpoint (entries were cut); SAM writes an `audit.gap` entry. */
  readonly onGap?: (detail: string) => void
  /** Unauthenticated refusals are summed over windows of this length (default 60 s). */
  readonly refusalWindowMs?: number
}

export const headFileOf = (file: string): string => `${file}.head`

/** Bytes read from the end of an existing log to find where its chain ends. */
const tailBytes = 64 * 1024
/** Checkpoints kept in the anchor: the newest is what matters, a few more say when. */
const keptCheckpoints = 100

export class AuditLog {
  readonly file: string
  private seq: number
  private prev: string
  /** Size and entry count of the current file. */
  private size: number
  private entriesInFile: number
  private nextRotation: number
  private pending: AuditRecord[] = []
  private writing: Promise<void> = Promise.resolve()
  private readonly onError: (error: unknown) => void
  private readonly maxFileBytes: number
  private readonly anchor: AuditAnchor | undefined
  private readonly refusals: RefusalTally
  private refusalTimer: NodeJS.Timeout | undefined
  private checkpointsSincePrune = 0
  private closed = false

  private constructor(file: string, state: ChainState, options: AuditLogOptions) {
    this.file = file
    this.seq = state.head.seq
    this.prev = state.head.hash
    this.size = state.size
    this.entriesInFile = state.entries
    this.nextRotation = state.nextRotation
    this.onError = options.onError ?? (() => {})
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024
    this.anchor = options.anchor
    this.refusals = new RefusalTally(options.refusalWindowMs)
  }

  /** Open (or create) the log at `file`, continuing the chain of what is already there. */
  static async open(file: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    await mkdir(dirname(file), { recursive: true })
    const state = await chainState(file)
    const log = new AuditLog(file, state, options)
    const checkpoint = options.anchor?.latest()
    if (checkpoint && checkpoint.seq > state.head.seq) {
      // Entries the anchor saw are gone. Go on after them, so the gap stays visible to `verify`.
      const missing = `#${state.head.seq + 1}${checkpoint.seq > state.head.seq + 1 ? `-#${checkpoint.seq}` : ""}`
      const detail =
        `audit entries ${missing} are missing: the log ends at #${state.head.seq}, but the runtime ` +
        `store's checkpoint of ${checkpoint.at} records #${checkpoint.seq} (they were cut off or deleted)`
      log.seq = checkpoint.seq
      log.prev = checkpoint.headHash
      log.append({
        actor: { name: "sam", via: "audit" },
        action: "audit.gap",
        target: basename(file),
        result: "failed",
        detail,
      })
      options.onGap?.(detail)
    }
    return log
  }

  /** Queue `record`; it is written after everything appended before it. */
  append(record: AuditRecord): void {
    this.pending.push(record)
    if (this.pending.length === 1) this.writing = this.writing.then(() => this.flush())
  }

  /**
   * Count a request refused for want of a valid credential from `source` (an address). Written as
   * one `api.unauthenticated` entry per source and window, when the window closes (or on close);
   * a gateway route's 401/403 (`at`) as one `gateway.refused` entry per source, service and status.
   */
  refused(source: string, at?: RefusedAt): void {
    if (this.closed) return
    this.refusals.count(source, Date.now(), at)
    this.scheduleRefusals()
  }

  /**
   * A request of a token refused for its role (403): the first few of each token per window are
   * written in full, the rest only counted, as one `api.denied` entry when the window closes, so
   * a token cannot grow the log by one entry per request. True when `record` was written.
   */
  denied(record: AuditRecord): boolean {
    if (this.closed) return false
    const inFull = this.refusals.deny(record.actor.name, record.actor.role ?? "", Date.now())
    if (inFull) this.append(record)
    else this.scheduleRefusals()
    return inFull
  }

  /** Resolves once every record appended so far is written (or reported as failed). */
  settled(): Promise<void> {
    return this.writing
  }

  /** Write the refusal counts still open, stop the window timer and wait for the disk. */
  async close(): Promise<void> {
    this.closed = true
    if (this.refusalTimer) clearTimeout(this.refusalTimer)
    this.refusalTimer = undefined
    for (const record of this.refusals.drain(Number.POSITIVE_INFINITY)) this.append(record)
    await this.settled()
  }

  /** The last entry written: its sequence number and hash. */
  head(): AuditHead {
    return { seq: this.seq, hash: this.prev }
  }

  private scheduleRefusals(): void {
    if (this.refusalTimer) return
    const next = this.refusals.nextClose()
    if (next === undefined) return
    this.refusalTimer = setTimeout(
      () => {
        this.refusalTimer = undefined
        for (const record of this.refusals.drain(Date.now())) this.append(record)
        this.scheduleRefusals()
      },
      Math.max(0, next - Date.now()),
    )
    // Counting must not keep a process alive that has nothing else to do.
    this.refusalTimer.unref()
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
    const text = entries.map((e) => `${JSON.stringify(e)}\n`).join("")
    const bytes = Buffer.byteLength(text)
    try {
      if (this.size > 0 && this.size + bytes > this.maxFileBytes) {
        await rename(this.file, rotatedFile(this.file, this.nextRotation))
        this.nextRotation++
        this.size = 0
        this.entriesInFile = 0
      }
      await appendFile(this.file, text, { mode: 0o600 })
      this.seq = seq
      this.prev = prev
      this.size += bytes
      this.entriesInFile += entries.length
      const head = headFileOf(this.file)
      await writeFile(`${head}.tmp`, `${JSON.stringify({ seq, hash: prev })}\n`, { mode: 0o600 })
      await rename(`${head}.tmp`, head)
      this.checkpoint()
    } catch (error) {
      this.onError(error)
    }
  }

  private checkpoint(): void {
    if (!this.anchor) return
    this.anchor.insert({
      seq: this.seq,
      count: this.entriesInFile,
      headHash: this.prev,
      file: basename(this.file),
      at: new Date().toISOString(),
    })
    if (++this.checkpointsSincePrune >= keptCheckpoints) {
      this.checkpointsSincePrune = 0
      this.anchor.prune?.(keptCheckpoints)
    }
  }
}

interface ChainState {
  readonly head: AuditHead
  /** Size and entry count of the current file. */
  readonly size: number
  readonly entries: number
  readonly nextRotation: number
}

/** Where the chain of an existing log ends: its current file, else its newest rotated one. */
const chainState = async (file: string): Promise<ChainState> => {
  const rotations = rotationIndexes(file)
  const nextRotation = (rotations.at(-1) ?? 0) + 1
  const size = await fileSize(file)
  if (size > 0) {
    const head = await chainEnd(file)
    return { head, size, entries: await lineCount(file), nextRotation }
  }
  const newest = rotations.at(-1)
  const head = newest === undefined ? { seq: 0, hash: GENESIS } : await chainEnd(rotatedFile(file, newest))
  return { head, size: 0, entries: 0, nextRotation }
}

const fileSize = async (file: string): Promise<number> => {
  try {
    return (await stat(file)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0
    throw error
  }
}

const lineCount = async (file: string): Promise<number> =>
  (await readFile(file, "utf8")).split("\n").filter((l) => l !== "").length

/** Where the chain of one file ends (GENESIS for a missing or empty file). */
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
  return { seq: await lineCount(file), hash: lineHash(last) }
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
