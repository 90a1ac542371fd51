// Server-Sent Events over fetch rather than EventSource: it sends Last-Event-ID on every
// reconnect (EventSource cannot be told one when it is made anew), sees the status of a refusal
// (401: signed out, so stop retrying) and is closed for good with close(). Messages are parsed by
// the same reader the CLI uses (src/api/sseReader.ts).
import { readSse } from "../../api/sseReader.ts"

export type StreamState = "connecting" | "open" | "retrying" | "unauthorized"

export interface StreamOptions {
  readonly url: string
  /** Resume after this id on the first connection too. */
  readonly lastEventId?: string
  readonly onMessage: (event: string, data: unknown, id: string | undefined) => void
  readonly onState?: (state: StreamState, detail: string) => void
  /** Delay before a reconnect (default 2 s, SAM's `retry`). */
  readonly retryMs?: number
}

export interface Stream {
  close(): void
}

async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

export const openStream = (options: StreamOptions): Stream => {
  let lastId = options.lastEventId
  let closed = false
  let abort: AbortController | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const tell = (state: StreamState, detail = "") => options.onState?.(state, detail)
  const connect = async () => {
    timer = undefined
    abort = new AbortController()
    tell("connecting")
    let detail = "the stream ended"
    try {
      const response = await fetch(options.url, {
        headers: {
          accept: "text/event-stream",
          ...(lastId === undefined ? {} : { "last-event-id": lastId }),
        },
        credentials: "same-origin",
        cache: "no-store",
        signal: abort.signal,
      })
      if (response.status === 401) {
        tell("unauthorized", "SAM does not know this browser session (it expired, or its token changed)")
        return
      }
      if (!response.ok || response.body === null) throw new Error(`SAM answered ${response.status}`)
      tell("open")
      for await (const message of readSse(chunks(response.body))) {
        if (message.id !== undefined) lastId = message.id
        options.onMessage(message.event, parse(message.data), message.id)
      }
    } catch (error) {
      if (closed) return
      detail = error instanceof Error ? error.message : String(error)
    }
    if (closed) return
    tell("retrying", detail)
    timer = setTimeout(connect, options.retryMs ?? 2_000)
  }
  void connect()
  return {
    close: () => {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      abort?.abort()
    },
  }
}
