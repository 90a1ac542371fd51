// GET /api/{services,agents}/:id/logs as Server-Sent Events: the matching history first (the last
// `lines`, or everything after Last-Event-ID; at most 10,000 lines either way), then each new line as the log hub delivers it, for
// as long as the client stays (the unit may restart any number of times). Each `line` event's id
// is the line's seq. A client that falls behind by more than `maxQueuedBytes` of frames (one that
// stops reading, or a unit writing faster than the client takes it) skips lines, told by a `gap`
// frame once it has caught up: what it holds of SAM's memory is bounded, and it keeps following.
import { Effect, Stream } from "effect"
import { type LogQuery, type LogRecord, matches } from "../runtime/logs/logRecord.ts"
import type { UnitLogs } from "../runtime/sam.ts"
import { framePusher, retryMs, sseFrame, startHeartbeat } from "./eventStream.ts"
import { FollowBudget } from "./followBudget.ts"
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
  /** Bytes of frames a client may fall behind by before lines are skipped (default 2 MiB). */
  readonly maxQueuedBytes?: number
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

/** Default of LogStreamOptions.maxQueuedBytes. */
export const maxQueuedBytes = 2 * 1024 * 1024

export const logFrames = (options: LogStreamOptions): Stream.Stream<string> =>
  Stream.suspend(() => {
    const budget = new FollowBudget(options.maxQueuedBytes ?? maxQueuedBytes)
    /** Tells a client that caught up what it skipped (set once the stream runs). */
    let onTaken = () => {}
    return Stream.callback<string>(
      (queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const { push: pushFrame, end } = framePusher(queue)
            const push = (frame: string) => {
              budget.queue(frame.length)
              pushFrame(frame)
            }
            const tellGap = () => {
              const detail = budget.caughtUp()
              if (detail !== undefined) push(sseFrame({ event: "gap", data: { detail } }))
            }
            const live = liveQuery(options.query)
            let lastSent = 0
            const frameOf = (record: LogRecord) =>
              sseFrame({ id: record.seq, event: "line", data: logLineView(record) })
            /**
             * The history, sent as the client takes it (none of it skipped), then the live lines
             * that came meanwhile; undefined once all of it went out. While it lasts, live lines
             * wait behind it, up to `maxQueued` of them; more are skipped and told as a gap.
             */
            let backlog: { records: ReadonlyArray<LogRecord>; next: number; early: LogRecord[] } | undefined =
              {
                records: [],
                next: 0,
                early: [],
              }
            let historyRead = false
            const send = (record: LogRecord) => {
              if (record.seq <= lastSent) return
              lastSent = record.seq
              tellGap()
              const frame = frameOf(record)
              if (budget.admit(record.seq, frame.length)) push(frame)
            }
            const drain = () => {
              if (backlog === undefined || !historyRead) return
              while (backlog.next < backlog.records.length && budget.hasRoom()) {
                const record = backlog.records[backlog.next++] as LogRecord
                if (record.seq <= lastSent) continue
                lastSent = record.seq
                push(frameOf(record))
              }
              if (backlog.next < backlog.records.length) return
              const { early } = backlog
              backlog = undefined
              for (const record of early) send(record)
            }
            onTaken = () => {
              drain()
              tellGap()
            }
            const unsubscribe = options.logs.subscribe((records) => {
              for (const record of records) {
                if (record.unit !== options.unit || !matches(record, live)) continue
                if (backlog === undefined) send(record)
                else if (backlog.early.length < (options.maxQueued ?? 10_000)) backlog.early.push(record)
                else budget.skip(record.seq)
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
                if (backlog !== undefined) backlog = { ...backlog, records }
                historyRead = true
                drain()
              },
              (error: unknown) => {
                push(
                  sseFrame({ event: "error", data: { detail: `reading the log failed: ${String(error)}` } }),
                )
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
    ).pipe(
      Stream.tap((frame) =>
        Effect.sync(() => {
          budget.taken(frame.length)
          onTaken()
        }),
      ),
    )
  })
