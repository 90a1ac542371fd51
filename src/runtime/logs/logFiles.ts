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
  /** Bytes of one unit's records waiting for the disk before its new lines are dropped (16 MiB). */
  readonly maxPendingBytes?: number
  /** ...and of all units together (64 MiB). */
  readonly maxPendingTotalBytes?: number
  /** Lines of `unit` were dropped since the last report (at most one report a second per unit). */
  readonly onDropped?: (unit: string, lines: number, bytes: number) => void
  /** A write or rotation failed (reported once until writes succeed again). */
  readonly onError?: (unit: string, error: unknown) => void
}

/**
 * Records are encoded into chunks of this size once a unit has this much pending (a flooding unit),
 * reused once written (no garbage per line). A unit with little pending gets a small chunk, twice
 * the size of what it has pending (at least minChunkBytes): 50 quiet units must not hold 50 × 256 KiB
 * (bench/RESULTS.md, "Findings").
 */
const chunkBytes = 256 * 1024
const minChunkBytes = 8 * 1024
/**
 * Largest single write (chunks, one writev): all that may be pending, since one turn of the event
 * loop can read megabytes of a flooding child and one write a turn must keep up with that.
 */
const batchBytes = 16 * 1024 * 1024
/** The size of a unit's next chunk: twice what it has pending, within minChunkBytes..chunkBytes. */
const chunkSizeFor = (pending: number): number =>
  Math.min(chunkBytes, Math.max(minChunkBytes, 2 ** Math.ceil(Math.log2(pending + 1)) * 2))

/** Free full-size chunks kept for reuse, all units together (a flood's worth of reuse). */
const spareChunks = 4
const reportEveryMs = 1_000
const NEWLINE = 0x0a

/** A file name for any unit id (config ids are already safe; embedders' may not be). */
export const logFileName = (unit: string): string =>
  `${/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(unit) ? unit : unit.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.codePointAt(0)?.toString(16)}`)}.log`

interface Waiter {
  readonly seq: number
  readonly resolve: () => void
}

/** Encoded records, whole ones only (a record never spans chunks). */
interface Chunk {
  buffer: Buffer
  used: number
  firstSeq: number
}

class UnitQueue {
  readonly unit: string
  readonly file: RotatingFile
  /** Waiting for the disk, oldest first; the last one is being filled. */
  chunks: Chunk[] = []
  bytes = 0
  /** Seq of the first record of the write in flight (undefined: none). */
  inFlight: number | undefined
  /** Seq of the newest record queued (written, in flight or waiting). */
  newest = 0
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
    return this.chunks.length === 0
  }

  /** Every record up to `seq` is on disk (or dropped). */
  settled(seq: number): boolean {
    return (
      (this.inFlight === undefined || this.inFlight > seq) &&
      (this.empty || (this.chunks[0] as Chunk).firstSeq > seq)
    )
  }
}

export class LogFiles implements LogStorage {
  private readonly options: LogFilesOptions
  private readonly maxPending: number
  private readonly maxPendingTotal: number
  private readonly units = new Map<string, UnitQueue>()
  private readonly pumps = new Set<Promise<void>>()
  private readonly spare: Buffer[] = []
  private totalBytes = 0

  constructor(options: LogFilesOptions) {
    this.options = options
    this.maxPending = options.maxPendingBytes ?? 16 * 1024 * 1024
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
      // A UTF-8 byte count only when it might matter (a line of ASCII is text.length bytes).
      const bytes = text.length * 3 <= chunkBytes ? text.length : Buffer.byteLength(text)
      // SAM's own notes (the drop reports) are never dropped.
      if (
        record.stream !== "sam" &&
        (queue.bytes + bytes > this.maxPending || this.totalBytes + bytes > this.maxPendingTotal)
      ) {
        queue.dropped++
        queue.droppedBytes += bytes
        continue
      }
      const written = this.put(queue, text, record.seq)
      queue.bytes += written
      this.totalBytes += written
      touched.add(queue)
    }
    for (const queue of touched) this.pump(queue)
  }

  async read(unit: string, query: LogQuery): Promise<ReadonlyArray<LogRecord>> {
    // Everything queued so far is on disk first (the write in flight included).
    const queue = this.units.get(unit)
    if (queue) await this.settled(queue, queue.newest)
    return readRecords(this.pathOf(unit), unit, query)
  }

  reportDrops(unit: string): boolean {
    const queue = this.units.get(unit)
    if (!queue || queue.dropped === 0) return false
    this.report(queue, unit, true)
    return true
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

  /** Encode `text` into the queue's open chunk (a new one when it does not fit); returns its bytes. */
  private put(queue: UnitQueue, text: string, seq: number): number {
    // Chunks being written have left the queue: the last one here is still open.
    let chunk = queue.chunks.at(-1)
    const needed = text.length * 3 <= chunkBytes ? text.length * 3 : Buffer.byteLength(text)
    if (!chunk || chunk.buffer.length - chunk.used < needed) {
      const size = Math.max(needed, chunkSizeFor(queue.bytes))
      const buffer =
        size === chunkBytes ? (this.spare.pop() ?? Buffer.allocUnsafe(chunkBytes)) : Buffer.allocUnsafe(size)
      chunk = { buffer, used: 0, firstSeq: seq }
      queue.chunks.push(chunk)
    }
    const written = chunk.buffer.write(text, chunk.used, "utf8")
    chunk.used += written
    queue.newest = seq
    return written
  }

  private release(chunk: Chunk): void {
    if (chunk.buffer.length === chunkBytes && this.spare.length < spareChunks) this.spare.push(chunk.buffer)
  }

  private settled(queue: UnitQueue, seq: number): Promise<void> {
    if (queue.settled(seq)) return Promise.resolve()
    return new Promise((resolve) => queue.waiters.push({ seq, resolve }))
  }

  /** Start writing `queue` unless a write is in flight (that one continues with what is pending). */
  private pump(queue: UnitQueue): void {
    if (queue.inFlight !== undefined || queue.empty) return
    // Marked in flight at once, so the next tick's append does not start a second writer.
    queue.inFlight = queue.chunks[0]?.firstSeq
    const run = this.drain(queue).finally(() => this.pumps.delete(run))
    this.pumps.add(run)
  }

  /** The chunks of the next write: whole chunks up to the file's room, the last one cut at a record. */
  private take(queue: UnitQueue): { parts: Buffer[]; taken: Chunk[]; bytes: number } {
    const file = queue.file
    const room = file.room()
    const limit = Math.min(room > 0 ? room : this.options.maxFileBytes, batchBytes)
    const parts: Buffer[] = []
    const taken: Chunk[] = []
    let bytes = 0
    while (queue.chunks.length > 0) {
      const chunk = queue.chunks[0] as Chunk
      if (bytes + chunk.used <= limit) {
        parts.push(chunk.buffer.subarray(0, chunk.used))
        taken.push(chunk)
        bytes += chunk.used
        queue.chunks.shift()
        continue
      }
      // Only part of it fits: the records up to the last newline within the limit (at least one).
      let cut = chunk.buffer.lastIndexOf(NEWLINE, limit - bytes - 1) + 1
      if (cut <= 0 && bytes === 0) cut = chunk.buffer.indexOf(NEWLINE) + 1
      if (cut >= chunk.used) {
        // Its one record is bigger than the room: it goes whole (the file rotates first).
        parts.push(chunk.buffer.subarray(0, chunk.used))
        taken.push(chunk)
        bytes += chunk.used
        queue.chunks.shift()
      } else if (cut > 0) {
        const head = Buffer.from(chunk.buffer.subarray(0, cut))
        chunk.buffer.copy(chunk.buffer, 0, cut, chunk.used)
        chunk.used -= cut
        parts.push(head)
        bytes += cut
      }
      break
    }
    return { parts, taken, bytes }
  }

  private async drain(queue: UnitQueue): Promise<void> {
    const { unit, file } = queue
    while (!queue.empty) {
      try {
        await file.ready()
      } catch (error) {
        this.failed(queue, error)
      }
      queue.inFlight = queue.chunks[0]?.firstSeq
      const { parts, taken, bytes } = this.take(queue)
      // Never empty while chunks wait (take always takes a record); a spin here would starve SAM.
      if (parts.length === 0) break
      try {
        await file.append(parts)
        queue.failing = false
      } catch (error) {
        this.failed(queue, error)
        queue.dropped += parts.reduce((n, part) => n + count(part), 0)
        queue.droppedBytes += bytes
      } finally {
        queue.inFlight = undefined
        queue.bytes -= bytes
        this.totalBytes -= bytes
        for (const chunk of taken) this.release(chunk)
      }
      this.wake(queue)
      this.report(queue, unit, false)
    }
    queue.inFlight = undefined
    this.wake(queue)
  }

  private failed(queue: UnitQueue, error: unknown): void {
    if (!queue.failing) this.options.onError?.(queue.unit, error)
    queue.failing = true
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

/** Records in a run of encoded ones (one newline each). */
const count = (part: Buffer): number => {
  let n = 0
  for (let i = part.indexOf(NEWLINE); i !== -1; i = part.indexOf(NEWLINE, i + 1)) n++
  return n
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
