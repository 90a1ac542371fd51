// Log storage for a SAM without a state dir (a bare `new Sam()`): the last lines of each unit in
// memory, bounded by count. createSam always uses files (logFiles.ts) instead.
import { defaultLines, type LogQuery, type LogRecord, matches } from "./logRecord.ts"
import type { LogStorage } from "./logStorage.ts"

export class MemoryLog implements LogStorage {
  private readonly units = new Map<string, LogRecord[]>()
  private readonly keep: number

  constructor(keep = 1000) {
    this.keep = Math.max(1, keep)
  }

  lastSeq(unit: string): number {
    return this.units.get(unit)?.at(-1)?.seq ?? 0
  }

  append(records: ReadonlyArray<LogRecord>): void {
    for (const record of records) {
      let kept = this.units.get(record.unit)
      if (!kept) {
        kept = []
        this.units.set(record.unit, kept)
      }
      kept.push(record)
      // Trimmed in steps, not per line: shifting a full array on every line is quadratic.
      if (kept.length > this.keep * 1.5) kept.splice(0, kept.length - this.keep)
    }
  }

  async read(unit: string, query: LogQuery): Promise<ReadonlyArray<LogRecord>> {
    // A copy: appends (and their trims) may come while the read yields.
    const kept = (this.units.get(unit) ?? []).slice(-this.keep)
    const found: LogRecord[] = []
    const limit = query.lines ?? defaultLines
    let sliceStart = performance.now()
    for (let i = kept.length - 1; i >= 0 && found.length < limit; i--) {
      // As logReader.ts does: a grep over many long lines gives the event loop back now and then.
      if (performance.now() - sliceStart > 20) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStart = performance.now()
      }
      const record = kept[i] as LogRecord
      if (matches(record, query)) found.push(record)
    }
    return found.reverse()
  }

  /** Memory keeps what it is given: nothing is ever dropped. */
  reportDrops(): boolean {
    return false
  }

  async settle(): Promise<void> {}

  async close(): Promise<void> {}
}
