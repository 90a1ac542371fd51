// GET /api/{services,agents}/:id/logs as Server-Sent Events: the matching history first (the last
// `lines`, or everything after Last-Event-ID; at most 10,000 lines either way), then each new line as the log hub delivers it, for
// as long as the client stays (the unit may restart any number of times). Each `line` event's id
// is the line's seq. A client that falls too far behind is cut off and resumes with Last-Event-ID.
import { Effect, Stream } from "effect"
import { type LogQuery, type LogRecord, matches } from "../runtime/logs/logRecord.ts"
import type { UnitLogs } from "../runtime/sam.ts"
import { framePusher, retryMs, sseFrame, startHeartbeat } from "./eventStream.ts"
import { logLineView } from "./logLineView.ts"

/** At most this many lines are replayed after a Last-Event-ID (the rest of a long gap is skipped). */
export const maxReplay = 10_000

export interface LogStreamOptions {
  readonly logs: UnitLogs
  readonly unit: string
  readonly query: LogQuery
  readonly lastEventId: string | undefined
  readonly heartbeatMs: number
  /** Aborted when the API server closes: the stream says `shutdown` and ends. */
  readonly shutdown: AbortSignal
  /** Live frames a slow client may fall behind by before the stream is ended (default 10,000). */
  readonly maxQueued?: number
  /** Checked at each heartbeat; false ends the stream (eventStream.ts, startHeartbeat). */
  readonly stillAuthorized?: () => boolean
}

const resumeSeq = (lastEventId: string | undefined): number | undefined => {
  if (lastEventId === undefined || !/^\d{1,16}$/.test(lastEventId.trim())) return undefined
  return Number(lastEventId.trim())
}

/** The live filters (not `lines`, not `since`: live lines are new). */
const liveQuery = (query: LogQuery): LogQuery => ({
  ...(query.grep === undefined ? {} : { grep: query.grep }),
  ...(query.stream === undefined ? {} : { stream: query.stream }),
  ...(query.instance === undefined ? {} : { instance: query.instance }),
})

export const logFrames = (options: LogStreamOptions): Stream.Stream<string> =>
  Stream.callback<string>(
    (queue) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const { push, end } = framePusher(queue)
          const live = liveQuery(options.query)
          let lastSent = 0
          /** Live lines that came while the history was read. */
          let early: LogRecord[] | undefined = []
          const send = (record: LogRecord) => {
            if (record.seq <= lastSent) return
            lastSent = record.seq
            push(sseFrame({ id: record.seq, event: "line", data: logLineView(record) }))
          }
          const unsubscribe = options.logs.subscribe((records) => {
            for (const record of records) {
              if (record.unit !== options.unit || !matches(record, live)) continue
              if (early) early.push(record)
              else send(record)
            }
          })
          push(`retry: ${retryMs}\n\n`)
          const after = resumeSeq(options.lastEventId)
          const history: LogQuery =
            after === undefined
              ? { ...options.query, lines: Math.min(options.query.lines ?? maxReplay, maxReplay) }
              : { ...live, afterSeq: after, lines: maxReplay }
          options.logs.read(options.unit, history).then(
            (records) => {
              if (after !== undefined && records.length === maxReplay)
                push(
                  sseFrame({
                    event: "gap",
                    data: {
                      detail: `more than ${maxReplay} lines were missed; showing the last ${maxReplay}`,
                    },
                  }),
                )
              for (const record of records) send(record)
              const waiting = early ?? []
              early = undefined
              for (const record of waiting) send(record)
            },
            (error: unknown) => {
              push(sseFrame({ event: "error", data: { detail: `reading the log failed: ${String(error)}` } }))
              end()
            },
          )
          const heartbeat = startHeartbeat(options, push, end)
          const onShutdown = () => {
            push(sseFrame({ event: "shutdown", data: { reason: "SAM's API server is closing" } }))
            end()
          }
          if (options.shutdown.aborted) onShutdown()
          else options.shutdown.addEventListener("abort", onShutdown, { once: true })
          return () => {
            unsubscribe()
            clearInterval(heartbeat)
            options.shutdown.removeEventListener("abort", onShutdown)
          }
        }),
        (release) => Effect.sync(release),
      ),
    // Room for the whole history at once, plus what a slow client may fall behind by.
    { bufferSize: maxReplay + 16 + (options.maxQueued ?? 10_000), strategy: "dropping" },
  )
