// One captured line of a unit's output as SAM keeps it (seq, time, unit, instance, stream, line),
// its JSON-line form in the unit's log file, and the filters readers apply. Pure; the hub makes
// records, logFiles.ts writes them, logReader.ts reads them back.
import type { LinePattern } from "../../config/linePattern.ts"
import type { AgentLogLevel } from "./agentLogEntry.ts"

/** stdout and stderr are the unit's; `sam` lines are SAM's notes in the unit's log (drops). */
export type LogStream = "stdout" | "stderr" | "sam"

export interface LogRecord {
  /** Per unit, increasing; continued from the unit's files when SAM starts again. */
  readonly seq: number
  /** Epoch ms when SAM read the line. */
  readonly time: number
  readonly unit: string
  readonly instance: number
  readonly stream: LogStream
  readonly line: string
  /** An agent's logger entry: its level (absent: a line the unit printed). */
  readonly level?: AgentLogLevel
}

export interface LogQuery {
  /** The last this many matching records (default 100). */
  readonly lines?: number
  /** Only records at or after this time (epoch ms). */
  readonly since?: number
  /** Only records after this seq (SSE Last-Event-ID). */
  readonly afterSeq?: number
  /** Only records whose line matches (RE2: config/linePattern.ts). */
  readonly grep?: LinePattern
  readonly stream?: "stdout" | "stderr"
  readonly instance?: number
}

export const defaultLines = 100

/**
 * Whether `record` passes the query's filters (not `lines`, which counts). SAM's notes pass the
 * stream and instance filters: lines lost are news to whoever reads any part of the log.
 */
export const matches = (record: LogRecord, query: LogQuery): boolean =>
  (query.afterSeq === undefined || record.seq > query.afterSeq) &&
  (query.since === undefined || record.time >= query.since) &&
  (query.stream === undefined || record.stream === query.stream || record.stream === "sam") &&
  (query.instance === undefined || record.instance === query.instance || record.stream === "sam") &&
  (query.grep === undefined || query.grep.test(record.line))

/** Scanning newest first, whether nothing older than `record` can match any more. */
export const pastQuery = (record: LogRecord, query: LogQuery): boolean =>
  (query.afterSeq !== undefined && record.seq <= query.afterSeq) ||
  (query.since !== undefined && record.time < query.since)

let lastTime = -1
let lastIso = ""

/** ISO time of `ms`; a flood writes thousands of lines per millisecond, so the last one is kept. */
const isoTime = (ms: number): string => {
  if (ms !== lastTime) {
    lastTime = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

/**
 * The record as one line of its unit's file (the unit is the file):
 * `{"seq":7,"time":"2026-12-01T10:00:00.000Z","instance":0,"stream":"stderr","line":"..."}`, and
 * `"level":"warn"` before the line for an agent's logger entry.
 * The child's line is kept as it was printed (a JSON line stays a string here; readers parse it).
 */
export const encodeRecord = (record: LogRecord): string =>
  `{"seq":${record.seq},"time":"${isoTime(record.time)}","instance":${record.instance},"stream":"${record.stream}",${record.level === undefined ? "" : `"level":"${record.level}",`}"line":${JSON.stringify(record.line)}}\n`

const levels: ReadonlySet<string> = new Set(["debug", "info", "warn", "error"])

const streams: ReadonlySet<string> = new Set(["stdout", "stderr", "sam"])

/** A file line back as a record of `unit`; undefined for anything else (a torn last line). */
export const decodeRecord = (text: string, unit: string): LogRecord | undefined => {
  if (text.length < 2 || text.charCodeAt(0) !== 0x7b) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const { seq, time, instance, stream, line, level } = value as Record<string, unknown>
  if (typeof seq !== "number" || typeof time !== "string" || typeof instance !== "number") return undefined
  if (typeof stream !== "string" || !streams.has(stream) || typeof line !== "string") return undefined
  const ms = Date.parse(time)
  if (Number.isNaN(ms)) return undefined
  const record = { seq, time: ms, unit, instance, stream: stream as LogStream, line }
  return typeof level === "string" && levels.has(level)
    ? { ...record, level: level as AgentLogLevel }
    : record
}

/** A child's JSON-object line, parsed (its fields); undefined for every other line. */
export const fieldsOf = (line: string): Record<string, unknown> | undefined => {
  const text = line.trim()
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
