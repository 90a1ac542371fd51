// The log channel: every line of unit output enters here (Sam's output hook), gets its unit's next
// seq, and leaves once per event-loop turn as one batch to the storage (files or memory) and to
// each subscriber (`sam logs -f` streams, plugins' log sinks). Lines never go through the event bus.
import type { OutputLine } from "../output/recentLines.ts"
import type { AgentLogLevel } from "./agentLogEntry.ts"
import type { LogQuery, LogRecord, LogStream } from "./logRecord.ts"
import type { LogStorage } from "./logStorage.ts"

export type LogListener = (records: ReadonlyArray<LogRecord>) => void

export interface LogHubOptions {
  /** Told when a subscriber throws (it is kept: the next batch may go well). */
  readonly onListenerError?: (error: unknown) => void
}

export class LogHub {
  private readonly storage: LogStorage
  private readonly onListenerError: (error: unknown) => void
  private readonly seqs = new Map<string, number>()
  private readonly listeners = new Set<LogListener>()
  private pending: LogRecord[] = []
  private scheduled: NodeJS.Immediate | undefined
  private closed: Promise<void> | undefined
  /** Closing has got past the last notes: nothing is taken any more. */
  private done = false

  constructor(storage: LogStorage, options: LogHubOptions = {}) {
    this.storage = storage
    this.onListenerError = options.onListenerError ?? (() => undefined)
  }

  /** One line of output of `unit`'s instance `instance` (the capture path: cheap, never throws). */
  push(unit: string, instance: number, line: OutputLine): void {
    this.add(unit, instance, line.stream, line.line, line.time, line.level)
  }

  /** A line of SAM's own in `unit`'s log (how many lines were dropped, and why). */
  note(unit: string, instance: number, text: string): void {
    this.add(unit, instance, "sam", text, Date.now())
  }

  /** Every batch of records from now on, all units; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** The last `query.lines` matching records of `unit`, oldest first, up to the latest line captured. */
  read(unit: string, query: LogQuery = {}): Promise<ReadonlyArray<LogRecord>> {
    this.flush()
    // Lines already lost are said before reading (the report is otherwise made after a write, and
    // at most once a second): whoever reads learns of every loss up to the read.
    if (this.storage.reportDrops(unit)) this.flush()
    return this.storage.read(unit, query)
  }

  /** The newest seq of `unit` so far (0: none yet). */
  lastSeq(unit: string): number {
    return this.seqOf(unit)
  }

  /** Deliver what is pending and close the storage (after the units stopped). Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.flush()
      await this.storage.settle()
      // The storage's last notes (drops) go out with everything else.
      this.flush()
      this.done = true
      this.listeners.clear()
      await this.storage.close()
    })()
    return this.closed
  }

  private seqOf(unit: string): number {
    let seq = this.seqs.get(unit)
    if (seq === undefined) {
      seq = this.storage.lastSeq(unit)
      this.seqs.set(unit, seq)
    }
    return seq
  }

  private add(
    unit: string,
    instance: number,
    stream: LogStream,
    line: string,
    time: number,
    level?: AgentLogLevel,
  ): void {
    if (this.done) return
    const seq = this.seqOf(unit) + 1
    this.seqs.set(unit, seq)
    this.pending.push(
      level === undefined
        ? { seq, time, unit, instance, stream, line }
        : { seq, time, unit, instance, stream, line, level },
    )
    this.scheduled ??= setImmediate(() => this.flush())
  }

  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled)
    this.scheduled = undefined
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    this.storage.append(batch)
    for (const listener of this.listeners) {
      try {
        listener(batch)
      } catch (error) {
        // A faulty subscriber must never break capture or its siblings.
        this.onListenerError(error)
      }
    }
  }
}
