// Unit logs on disk: one file per unit under <state_dir>/logs (`<unit>.log`, JSON lines, 0600 in a
// 0700 dir), rotated by rotatingFile.ts. Records wait in a bounded queue per unit and are written
// in batches, one write in flight per unit, off the capture path. A unit writing faster than its
// disk takes loses the newest lines past the bound; the loss is counted and reported (onDropped).
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { readRecords } from "./logReader.ts"
import { decodeRecord, encodeRecord, type LogQuery, type LogRecord } from "./logRecord.ts"
import type { LogStorage } from "./logStorage.ts"
import { RotatingFile, type RotationSettings, rotatedFiles } from "./rotatingFile.ts"

export interface LogFilesOptions extends RotationSettings {
  /** The logs directory (<state_dir>/logs). */
  readonly dir: string
  /** Bytes of one unit's records waiting for the disk before its new lines are dropped (4 MiB). */
  readonly maxPendingBytes?: number
  /** ...and of all units together (64 MiB). */
  readonly maxPendingTotalBytes?: number
  /** Lines of `unit` were dropped since the last report (at most one report a second per unit). */
  readonly onDropped?: (unit: string, lines: number, bytes: number) => void
  /** A write or rotation failed (reported once until writes succeed again). */
  readonly onError?: (unit: string, error: unknown) => void
}

/** Largest single write. */
const batchBytes = 1024 * 1024
const reportEveryMs = 1_000

/** A file name for any unit id (config ids are already safe; embedders' may not be). */
export const logFileName = (unit: string): string =>
  `${/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(unit) ? unit : unit.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.codePointAt(0)?.toString(16)}`)}.log`

interface Waiter {
  readonly seq: number
  readonly resolve: () => void
}

class UnitQueue {
  readonly unit: string
  readonly file: RotatingFile
  texts: string[] = []
  sizes: number[] = []
  seqs: number[] = []
  head = 0
  bytes = 0
  /** Seq of the first record of the batch being written (undefined: none in flight). */
  inFlight: number | undefined
  dropped = 0
  droppedBytes = 0
  lastReport = 0
  failing = false
  waiters: Waiter[] = []

  constructor(unit: string, file: RotatingFile) {
    this.unit = unit
    this.file = file
  }

  get empty(): boolean {
    return this.head >= this.texts.length
  }

  /** Every record up to `seq` is on disk (or dropped). */
  settled(seq: number): boolean {
    return (
      (this.inFlight === undefined || this.inFlight > seq) &&
      (this.empty || (this.seqs[this.head] as number) > seq)
    )
  }

  compact(): void {
    if (this.head < 1024 || this.head * 2 < this.texts.length) return
    this.texts = this.texts.slice(this.head)
    this.sizes = this.sizes.slice(this.head)
    this.seqs = this.seqs.slice(this.head)
    this.head = 0
  }
}

export class LogFiles implements LogStorage {
  private readonly options: LogFilesOptions
  private readonly maxPending: number
  private readonly maxPendingTotal: number
  private readonly units = new Map<string, UnitQueue>()
  private readonly pumps = new Set<Promise<void>>()
  private totalBytes = 0

  constructor(options: LogFilesOptions) {
    this.options = options
    this.maxPending = options.maxPendingBytes ?? 4 * 1024 * 1024
    this.maxPendingTotal = options.maxPendingTotalBytes ?? 64 * 1024 * 1024
    mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  }

  /** The current file of `unit`. */
  pathOf(unit: string): string {
    return join(this.options.dir, logFileName(unit))
  }

  lastSeq(unit: string): number {
    for (const file of rotatedFiles(this.pathOf(unit))) {
      try {
        const seq = lastSeqIn(file.path, file.compressed, unit)
        if (seq !== undefined) return seq
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.options.onError?.(unit, error)
      }
    }
    return 0
  }

  append(records: ReadonlyArray<LogRecord>): void {
    const touched = new Set<UnitQueue>()
    for (const record of records) {
      const queue = this.queueOf(record.unit)
      const text = encodeRecord(record)
      const bytes = Buffer.byteLength(text)
      // SAM's own notes (the drop reports) are never dropped.
      if (
        record.stream !== "sam" &&
        (queue.bytes + bytes > this.maxPending || this.totalBytes + bytes > this.maxPendingTotal)
      ) {
        queue.dropped++
        queue.droppedBytes += bytes
        continue
      }
      queue.texts.push(text)
      queue.sizes.push(bytes)
      queue.seqs.push(record.seq)
      queue.bytes += bytes
      this.totalBytes += bytes
      touched.add(queue)
    }
    for (const queue of touched) this.pump(queue)
  }

  async read(unit: string, query: LogQuery): Promise<ReadonlyArray<LogRecord>> {
    const queue = this.units.get(unit)
    if (queue) {
      const last = queue.seqs.at(-1)
      if (last !== undefined) await this.settled(queue, last)
    }
    return readRecords(this.pathOf(unit), unit, query)
  }

  async settle(): Promise<void> {
    while (this.pumps.size > 0) await Promise.all(this.pumps)
    for (const [unit, queue] of this.units) this.report(queue, unit, true)
  }

  async close(): Promise<void> {
    await this.settle()
    while (this.pumps.size > 0) await Promise.all(this.pumps)
    for (const [unit, queue] of this.units)
      await queue.file.close().catch((error: unknown) => this.options.onError?.(unit, error))
    this.units.clear()
  }

  private queueOf(unit: string): UnitQueue {
    let queue = this.units.get(unit)
    if (!queue) {
      queue = new UnitQueue(
        unit,
        new RotatingFile(this.pathOf(unit), this.options, (error) => this.options.onError?.(unit, error)),
      )
      this.units.set(unit, queue)
    }
    return queue
  }

  private settled(queue: UnitQueue, seq: number): Promise<void> {
    if (queue.settled(seq)) return Promise.resolve()
    return new Promise((resolve) => queue.waiters.push({ seq, resolve }))
  }

  /** Start writing `queue` unless a write is in flight (that one continues with what is pending). */
  private pump(queue: UnitQueue): void {
    if (queue.inFlight !== undefined || queue.empty) return
    // Marked in flight at once, so the next tick's append does not start a second writer.
    queue.inFlight = queue.seqs[queue.head]
    const run = this.drain(queue).finally(() => this.pumps.delete(run))
    this.pumps.add(run)
  }

  private async drain(queue: UnitQueue): Promise<void> {
    const { unit } = queue
    while (!queue.empty) {
      const file = queue.file
      const room = file.opened ? file.room() : this.options.maxFileBytes
      const limit = Math.min(room > 0 ? room : this.options.maxFileBytes, batchBytes)
      let end = queue.head
      let bytes = 0
      while (end < queue.texts.length) {
        const size = queue.sizes[end] as number
        if (end > queue.head && bytes + size > limit) break
        bytes += size
        end++
      }
      const text = queue.texts.slice(queue.head, end).join("")
      const count = end - queue.head
      queue.inFlight = queue.seqs[queue.head]
      queue.head = end
      try {
        await file.append(text, bytes)
        queue.failing = false
      } catch (error) {
        if (!queue.failing) this.options.onError?.(unit, error)
        queue.failing = true
        queue.dropped += count
        queue.droppedBytes += bytes
      } finally {
        queue.inFlight = undefined
        queue.bytes -= bytes
        this.totalBytes -= bytes
        queue.compact()
      }
      this.wake(queue)
      this.report(queue, unit, false)
    }
    queue.inFlight = undefined
    this.wake(queue)
  }

  private wake(queue: UnitQueue): void {
    if (queue.waiters.length === 0) return
    const waiting = queue.waiters
    queue.waiters = []
    for (const waiter of waiting) {
      if (queue.settled(waiter.seq)) waiter.resolve()
      else queue.waiters.push(waiter)
    }
  }

  private report(queue: UnitQueue, unit: string, final: boolean): void {
    if (queue.dropped === 0) return
    const now = Date.now()
    if (!final && now - queue.lastReport < reportEveryMs && queue.bytes > this.maxPending / 2) return
    const { dropped, droppedBytes } = queue
    queue.dropped = 0
    queue.droppedBytes = 0
    queue.lastReport = now
    this.options.onDropped?.(unit, dropped, droppedBytes)
  }
}

const tailBytes = 64 * 1024

/** The seq of the last whole record in a file, read from its end. */
const lastSeqIn = (path: string, compressed: boolean, unit: string): number | undefined => {
  let text: string
  if (compressed) text = gunzipSync(readFileSync(path)).toString("utf8")
  else {
    const fd = openSync(path, "r")
    try {
      const size = fstatSync(fd).size
      let want = Math.min(size, tailBytes)
      for (;;) {
        const buffer = Buffer.alloc(want)
        readSync(fd, buffer, 0, want, size - want)
        text = buffer.toString("utf8")
        // A record longer than what was read: read more (records are bounded by max_line_kb).
        if (text.lastIndexOf("\n", text.length - 2) >= 0 || want === size) break
        want = Math.min(size, want * 4)
      }
    } finally {
      closeSync(fd)
    }
  }
  const lines = text.split("\n")
  for (let i = lines.length - 1; i >= 0; i--) {
    const record = decodeRecord(lines[i] as string, unit)
    if (record) return record.seq
  }
  return undefined
}
