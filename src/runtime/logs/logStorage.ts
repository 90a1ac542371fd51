// Where the log hub keeps records for reading back: files under <state_dir>/logs (logFiles.ts) or,
// for a SAM without a state dir, the last lines in memory (memoryLog.ts). One interface, so the
// hub, `sam.logs` and the API do not care which.
import type { LogQuery, LogRecord } from "./logRecord.ts"

export interface LogStorage {
  /** The newest seq kept of `unit` (0 when none): the hub continues from it. Synchronous. */
  lastSeq(unit: string): number
  /** Keep these records (one tick of capture, any units, in seq order per unit). Never throws. */
  append(records: ReadonlyArray<LogRecord>): void
  /** The last `query.lines` matching records of `unit`, oldest first, including everything appended. */
  read(unit: string, query: LogQuery): Promise<ReadonlyArray<LogRecord>>
  /** Report now what was dropped of `unit` (its note comes back to the hub); true when there was any. */
  reportDrops(unit: string): boolean
  /** Write out what is pending and report what was dropped (the report comes back as a note). */
  settle(): Promise<void>
  /** Release the files (after settle). */
  close(): Promise<void>
}
