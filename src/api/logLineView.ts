// A unit's log record as the API answers it (and `sam logs` prints it, from a running SAM or from
// the files of its last run): the time as ISO, a JSON-object line with its fields, an agent's
// logger entry with its level among them (`fields.level`, as a pino line's is). Pure.
import { fieldsOf, type LogRecord } from "../runtime/logs/logRecord.ts"
import type { LogLine } from "./schemas.ts"

export const logLineView = (record: LogRecord): LogLine => {
  const parsed = record.stream === "sam" ? undefined : fieldsOf(record.line)
  const fields = record.level === undefined ? parsed : { ...parsed, level: record.level }
  return {
    seq: record.seq,
    time: new Date(record.time).toISOString(),
    instance: record.instance,
    stream: record.stream,
    line: record.line,
    ...(fields === undefined ? {} : { fields }),
  }
}
