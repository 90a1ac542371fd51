// GET /api/events: SAM's event bus as Server-Sent Events. A connection gets a `snapshot` of every
// unit first (id = the last event id it covers), then each event as it is published, with comment
// heartbeats in between. With Last-Event-ID the events after that id are replayed from the bus
// history instead, when the history still holds them. Unit output has its own stream (logStream.ts).
// Asked for, `usage` frames (no id: they are samples, not events to resume after) come at an interval.
// A stream whose credential stops authenticating (checked at each heartbeat) ends.
import { type Cause, Effect, Queue, Stream } from "effect"
import type { EventBus, SamEvent } from "../runtime/eventBus.ts"

export interface SseFrame {
  readonly id?: number
  readonly event: string
  readonly data: unknown
}

/** One SSE message; `data` is JSON on a single line. */
export const sseFrame = (frame: SseFrame): string =>
  `${frame.id === undefined ? "" : `id: ${frame.id}\n`}event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`

export const sseComment = (text: string): string => `: ${text.replace(/\n/g, " ")}\n\n`

/** Reconnect delay suggested to EventSource clients. */
export const retryMs = 2_000

/**
 * The two ways an SSE stream's producer feeds its queue (Stream.callback): `push` a frame, and
 * `end` the stream once — also when a slow client's queue is full (it can resume).
 */
export const framePusher = (queue: Queue.Queue<string, Cause.Done>) => {
  let open = true
  const end = () => {
    if (!open) return
    open = false
    Queue.endUnsafe(queue)
  }
  const push = (text: string) => {
    if (open && !Queue.offerUnsafe(queue, text)) end()
  }
  return { push, end }
}

export interface EventStreamOptions {
  readonly bus: EventBus
  readonly lastEventId: string | undefined
  readonly heartbeatMs: number
  /** Aborted when the API server closes: the stream says `shutdown` and ends. */
  readonly shutdown: AbortSignal
  /** The snapshot's data (every unit), taken when the stream starts. */
  readonly snapshot: () => unknown
  /** Frames a slow client may fall behind by before the stream is ended (it can resume). */
  readonly maxQueued?: number
  /** Send a `usage` frame with `sample()` every `everyMs` (the dashboard's sparklines). */
  readonly usage?: { readonly everyMs: number; readonly sample: () => unknown }
  /**
   * Checked at each heartbeat: once the credential that opened the stream no longer authenticates
   * (its session expired, its token was changed or removed by a reload), an `unauthorized` frame
   * ends the stream, and the client's reconnect meets the 401.
   */
  readonly stillAuthorized?: () => boolean
}

/**
 * Every `heartbeatMs`: a keep-alive comment, or, once `stillAuthorized` says no, an `unauthorized`
 * frame and the end of the stream. Returns the interval to clear.
 */
export const startHeartbeat = (
  options: { readonly heartbeatMs: number; readonly stillAuthorized?: (() => boolean) | undefined },
  push: (text: string) => void,
  end: () => void,
): ReturnType<typeof setInterval> =>
  setInterval(() => {
    if (options.stillAuthorized?.() === false) {
      push(
        sseFrame({
          event: "unauthorized",
          data: { reason: "the credential of this stream is no longer valid" },
        }),
      )
      end()
      return
    }
    push(sseComment(`keep-alive ${new Date().toISOString()}`))
  }, options.heartbeatMs)

/** The events to replay after `lastEventId`, or undefined when a snapshot is needed instead. */
export const replayAfter = (
  bus: EventBus,
  lastEventId: string | undefined,
): ReadonlyArray<SamEvent> | undefined => {
  if (lastEventId === undefined || !/^\d{1,15}$/.test(lastEventId.trim())) return undefined
  const after = Number(lastEventId.trim())
  const history = bus.since(0)
  const newest = history.at(-1)?.id ?? 0
  const oldest = history[0]?.id ?? newest + 1
  // Ids ahead of the bus (SAM restarted) or older than its history: the client missed events.
  if (after > newest || after < oldest - 1) return undefined
  return history.filter((e) => e.id > after)
}

/** The text frames of one SSE connection. */
export const eventFrames = (options: EventStreamOptions): Stream.Stream<string> =>
  Stream.callback<string>(
    (queue) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const { push, end } = framePusher(queue)
          let lastSent = 0
          const send = (event: SamEvent) => {
            if (event.id <= lastSent) return
            lastSent = event.id
            push(sseFrame({ id: event.id, event: event.type, data: event }))
          }
          push(`retry: ${retryMs}\n\n`)
          const replay = replayAfter(options.bus, options.lastEventId)
          if (replay === undefined) {
            lastSent = options.bus.since(0).at(-1)?.id ?? 0
            push(sseFrame({ id: lastSent, event: "snapshot", data: options.snapshot() }))
          } else {
            for (const event of replay) send(event)
          }
          const unsubscribe = options.bus.subscribe(send)
          const heartbeat = startHeartbeat(options, push, end)
          const usage = options.usage
          const sampler =
            usage === undefined
              ? undefined
              : setInterval(() => push(sseFrame({ event: "usage", data: usage.sample() })), usage.everyMs)
          const onShutdown = () => {
            push(sseFrame({ event: "shutdown", data: { reason: "SAM's API server is closing" } }))
            end()
          }
          if (options.shutdown.aborted) onShutdown()
          else options.shutdown.addEventListener("abort", onShutdown, { once: true })
          return () => {
            unsubscribe()
            clearInterval(heartbeat)
            clearInterval(sampler)
            options.shutdown.removeEventListener("abort", onShutdown)
          }
        }),
        (release) => Effect.sync(release),
      ),
    { bufferSize: options.maxQueued ?? 4096, strategy: "dropping" },
  )
