// In-process publish/subscribe for everything SAM observes: lifecycle transitions, health
// changes, supervisor decisions (unit output has its own channel, logs/logHub.ts). Surfaces (API, CLI, dashboard, tests) subscribe here;
// a bounded history with monotonically increasing ids lets SSE clients resume (Last-Event-ID).

export interface TransitionEvent {
  readonly type: "transition"
  readonly unit: string
  readonly instance: number
  readonly from: string
  readonly to: string
  readonly reason: string
  readonly pid?: number | undefined
}

export interface HealthEvent {
  readonly type: "health"
  readonly unit: string
  readonly instance: number
  readonly ok: boolean
  readonly probe: string
  readonly detail: string
}

export interface SupervisorEvent {
  readonly type: "supervisor"
  /**
   * restart | give-up | escalation | group-shutdown | dependency-restarted | waiting | scale
   * (with why) | scaled (a scale down finished) | scale-limited | scale-failed | drain-failed |
   * files-changed (a watched unit's files changed, and what that did) | watch-failed |
   * port-moved (a kept port was taken while the instance was down: it got another) | watch-loop
   * (a watched unit seems to write its own watched files: watching it is paused)
   */
  readonly action: string
  readonly unit?: string
  readonly group?: string
  readonly detail: string
  /** restart: the backoff before the new start, in ms. */
  readonly delayMs?: number
}

export interface CustomEvent {
  readonly type: `${string}.${string}`
  readonly [key: string]: unknown
}

export type SamEventBody = TransitionEvent | HealthEvent | SupervisorEvent | CustomEvent
export type SamEvent = SamEventBody & { readonly id: number; readonly at: string }

/**
 * A first event id above every id an earlier SAM run on this machine handed out: the clock in
 * hundredths of milliseconds (an earlier run would need over 100 events per millisecond, all its
 * life, to reach it). It stays under 10^15, the largest id Last-Event-ID accepts, until 2286.
 */
export const runEventIdBase = (now = Date.now()): number => now * 100

export type Listener = (event: SamEvent) => void

export class EventBus {
  private readonly listeners = new Set<Listener>()
  /** A ring: once full, the oldest kept event is at `oldest` (cheaper than push+shift). */
  private readonly history: SamEvent[] = []
  private oldest = 0
  private nextId: number

  private readonly historySize: number
  /**
   * `firstId`: the id of the first event (default 1). SAM starts each run's ids above any earlier
   * run's (runEventIdBase), so a client resuming with an id from before a restart gets a snapshot
   * instead of the new run's events that happen to have higher numbers.
   */
  constructor(historySize = 1000, firstId = 1) {
    this.historySize = historySize
    this.nextId = firstId
  }

  /** `keep: false` delivers without storing in history (chatty events). */
  publish(body: SamEventBody, options: { keep?: boolean } = {}): SamEvent {
    const event = { ...body, id: this.nextId++, at: new Date().toISOString() } as SamEvent
    if (options.keep !== false && this.historySize > 0) {
      if (this.history.length < this.historySize) this.history.push(event)
      else {
        this.history[this.oldest] = event
        this.oldest = (this.oldest + 1) % this.historySize
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A faulty subscriber must never break the publisher or its siblings.
      }
    }
    return event
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Events with an id greater than `afterId` still held in history. */
  since(afterId = 0): ReadonlyArray<SamEvent> {
    const ordered =
      this.oldest === 0
        ? this.history
        : [...this.history.slice(this.oldest), ...this.history.slice(0, this.oldest)]
    return ordered.filter((e) => e.id > afterId)
  }

  get listenerCount(): number {
    return this.listeners.size
  }
}
