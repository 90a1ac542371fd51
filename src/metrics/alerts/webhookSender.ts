// POSTs alert notifications to webhook receivers without ever holding SAM up: each receiver has
// its own bounded queue worked in order (a firing before its resolved), each attempt a timeout,
// failures retried with exponential backoff up to a bounded number of attempts, then dropped and
// reported. Timers are unref'd; close() abandons what is queued and aborts what is in flight.
import { nodeHttp, nodeHttps } from "../../runtime/os/nodeHttp.ts"

export interface WebhookRetry {
  /** Attempts per notification, the first included (default 5). */
  readonly attempts?: number
  /** Wait before the first retry, doubled after each (default 1 s)... */
  readonly backoffMs?: number
  /** ...up to this (default 30 s). */
  readonly maxBackoffMs?: number
  /** One attempt's deadline, connect to answer (default 5 s). */
  readonly timeoutMs?: number
  /** Notifications waiting per receiver; past it the oldest is dropped (default 100). */
  readonly maxQueued?: number
}

export interface WebhookFailure {
  /** The receiver, without its path and query (they may hold a token). */
  readonly receiver: string
  readonly attempts: number
  readonly detail: string
  /** What was being sent (the alert's name). */
  readonly subject: string
}

interface Notification {
  readonly body: string
  readonly subject: string
}

interface Receiver {
  readonly queue: Notification[]
  working: boolean
}

/** `https://hooks.example.com/…`: enough to tell receivers apart, nothing of a secret path. */
export const receiverName = (url: string): string => {
  try {
    const u = new URL(url)
    return u.pathname === "/" && u.search === "" ? u.origin : `${u.origin}/…`
  } catch {
    return "<invalid url>"
  }
}

/** Whether an answer means "try again" (the receiver's trouble) rather than "never" (a rejection). */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500

export class WebhookSender {
  private readonly receivers = new Map<string, Receiver>()
  private readonly retry: Required<WebhookRetry>
  private readonly onFailure: (failure: WebhookFailure) => void
  private readonly onDelivered: ((receiver: string, subject: string, attempts: number) => void) | undefined
  private readonly closing = new AbortController()
  private readonly sleepers = new Set<() => void>()

  constructor(
    options: {
      readonly retry?: WebhookRetry
      readonly onFailure?: (failure: WebhookFailure) => void
      readonly onDelivered?: (receiver: string, subject: string, attempts: number) => void
    } = {},
  ) {
    this.retry = {
      attempts: options.retry?.attempts ?? 5,
      backoffMs: options.retry?.backoffMs ?? 1_000,
      maxBackoffMs: options.retry?.maxBackoffMs ?? 30_000,
      timeoutMs: options.retry?.timeoutMs ?? 5_000,
      maxQueued: options.retry?.maxQueued ?? 100,
    }
    this.onFailure = options.onFailure ?? (() => {})
    this.onDelivered = options.onDelivered
  }

  /** Queue `payload` for `url`; returns at once. */
  send(url: string, payload: unknown, subject: string): void {
    if (this.closing.signal.aborted) return
    let receiver = this.receivers.get(url)
    if (!receiver) {
      receiver = { queue: [], working: false }
      this.receivers.set(url, receiver)
    }
    if (receiver.queue.length >= this.retry.maxQueued) {
      const dropped = receiver.queue.shift()
      this.onFailure({
        receiver: receiverName(url),
        attempts: 0,
        subject: dropped?.subject ?? subject,
        detail: `dropped: ${this.retry.maxQueued} notifications were already waiting for this receiver`,
      })
    }
    receiver.queue.push({ body: JSON.stringify(payload), subject })
    if (!receiver.working) void this.work(url, receiver)
  }

  /** Notifications waiting or in flight, over every receiver. */
  get pending(): number {
    let n = 0
    for (const r of this.receivers.values()) n += r.queue.length + (r.working ? 1 : 0)
    return n
  }

  /** Stop: drop what waits, abort what is in flight, cancel every backoff. */
  close(): void {
    this.closing.abort()
    for (const wake of this.sleepers) wake()
    this.sleepers.clear()
    for (const receiver of this.receivers.values()) receiver.queue.length = 0
  }

  private async work(url: string, receiver: Receiver): Promise<void> {
    receiver.working = true
    try {
      for (let next = receiver.queue.shift(); next; next = receiver.queue.shift()) {
        await this.deliver(url, next)
        if (this.closing.signal.aborted) return
      }
    } finally {
      receiver.working = false
    }
  }

  private async deliver(url: string, notification: Notification): Promise<void> {
    let delay = this.retry.backoffMs
    let detail = ""
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (this.closing.signal.aborted) return
      const outcome = await this.post(url, notification.body)
      if (outcome.ok) {
        this.onDelivered?.(receiverName(url), notification.subject, attempt)
        return
      }
      detail = outcome.detail
      if (!outcome.retry || attempt === this.retry.attempts) {
        if (!this.closing.signal.aborted)
          this.onFailure({
            receiver: receiverName(url),
            attempts: attempt,
            subject: notification.subject,
            detail,
          })
        return
      }
      // ±20% so receivers that came back at once are not all retried in the same instant.
      await this.sleep(delay * (0.8 + Math.random() * 0.4))
      delay = Math.min(delay * 2, this.retry.maxBackoffMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      timer.unref()
      this.sleepers.add(wake)
    })
  }

  private post(
    url: string,
    body: string,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; detail: string }> {
    return new Promise((resolve) => {
      const send = url.startsWith("https:") ? nodeHttps().request : nodeHttp().request
      let settled = false
      const done = (outcome: { ok: true } | { ok: false; retry: boolean; detail: string }) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(outcome)
      }
      const req = send(
        url,
        {
          method: "POST",
          agent: false,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "user-agent": "sam-alerts",
          },
          signal: this.closing.signal,
        },
        (res) => {
          res.resume()
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) done({ ok: true })
          else done({ ok: false, retry: retryable(status), detail: `answered ${status}` })
        },
      )
      // One deadline for the whole attempt (connect, send, answer): a receiver that accepts and
      // never answers costs one timeout, not SAM's patience.
      const timer = setTimeout(() => {
        req.destroy()
        done({ ok: false, retry: true, detail: `no answer within ${this.retry.timeoutMs} ms` })
      }, this.retry.timeoutMs)
      timer.unref()
      req.on("error", (error) => done({ ok: false, retry: true, detail: error.message }))
      req.end(body)
    })
  }
}
