// Built-in plugin: forwards selected SAM events to a webhook. Events are batched (by count or
// time), POSTed as JSON, and retried with exponential backoff; a bounded queue drops the oldest
// events when the receiver is down for long. Without a `url` it stays idle.
// Uses only the public plugin API.
import { Schema } from "effect"
import { definePlugin, type SamEvent } from "../../src/plugins/index.ts"

const Config = Schema.Struct({
  url: Schema.optionalKey(Schema.String),
  /** Event types to send: exact ("transition") or a prefix ending in "*" ("plugin.*"). Default all. */
  events: Schema.optionalKey(Schema.Array(Schema.String)),
  headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  batch_size: Schema.optionalKey(Schema.Number),
  flush_interval_ms: Schema.optionalKey(Schema.Number),
  max_retries: Schema.optionalKey(Schema.Number),
  retry_base_ms: Schema.optionalKey(Schema.Number),
  max_queue: Schema.optionalKey(Schema.Number),
})

/** Pure: does `type` match one of `patterns` ("x.*" matches every "x." type)? */
export const matchesEventType = (type: string, patterns: ReadonlyArray<string> | undefined): boolean =>
  patterns === undefined ||
  patterns.some((p) => (p.endsWith("*") ? type.startsWith(p.slice(0, -1)) : p === type))

export default definePlugin({
  name: "webhook-sink",
  version: "1.0.0",
  apiVersion: 1,
  description: "POSTs selected SAM events to a webhook URL, batched, with retries.",
  configSchema: Config,
  setup(ctx) {
    const { url } = ctx.config
    const stats = { delivered: 0, failedBatches: 0, dropped: 0, retries: 0 }
    const queue: SamEvent[] = []
    ctx.api.get("/stats", () => ({ url: url ?? null, queued: queue.length, ...stats }))
    if (url === undefined) {
      ctx.log.warn("no url configured; not forwarding events (set plugins[].config.url)")
      return
    }
    const batchSize = ctx.config.batch_size ?? 50
    const maxQueue = ctx.config.max_queue ?? 5_000
    const maxRetries = ctx.config.max_retries ?? 3
    const retryBaseMs = ctx.config.retry_base_ms ?? 500
    let sending: Promise<void> | undefined

    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const cancel = ctx.timers.setTimeout(resolve, ms)
        ctx.signal.addEventListener(
          "abort",
          () => {
            cancel()
            resolve()
          },
          { once: true },
        )
      })

    const post = async (batch: ReadonlyArray<SamEvent>, attempts: number): Promise<boolean> => {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) {
          stats.retries++
          await wait(retryBaseMs * 2 ** (attempt - 1))
          if (ctx.signal.aborted) return false
        }
        try {
          const res = await ctx.fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", ...ctx.config.headers },
            body: JSON.stringify({ source: "sam", events: batch }),
          })
          if (res.ok) return true
        } catch {
          // Network error: retried like a 5xx.
        }
      }
      return false
    }

    const flush = (attempts = maxRetries + 1): Promise<void> => {
      sending ??= (async () => {
        while (queue.length > 0) {
          const batch = queue.splice(0, batchSize)
          if (await post(batch, attempts)) stats.delivered += batch.length
          else {
            stats.failedBatches++
            ctx.events.publish({ type: "webhook-sink.delivery-failed", url, events: batch.length })
            break
          }
        }
      })().finally(() => {
        sending = undefined
      })
      return sending
    }

    ctx.events.subscribe((event) => {
      // Never forward our own events: a failing webhook would feed itself.
      if (event.type.startsWith("webhook-sink.") || !matchesEventType(event.type, ctx.config.events)) return
      queue.push(event)
      if (queue.length > maxQueue) stats.dropped += queue.splice(0, queue.length - maxQueue).length
      if (queue.length >= batchSize) void flush()
    })
    ctx.timers.setInterval(() => {
      if (queue.length > 0) void flush()
    }, ctx.config.flush_interval_ms ?? 1_000)
    // On unload or replacement: one last attempt for what is still queued.
    ctx.onCleanup(async () => {
      await sending
      if (queue.length > 0) await flush(1)
    })
  },
})
