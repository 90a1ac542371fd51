// Refused unauthenticated requests, summed per source address and window (a minute by default):
// a flood of requests without a credential becomes one audit entry per source and minute with a
// count, instead of one per request. Pure; AuditLog drains it when windows close and on close.
import type { AuditRecord } from "./auditEntry.ts"

interface Window {
  readonly source: string
  readonly start: number
  count: number
}

export class RefusalTally {
  private readonly windowMs: number
  private readonly windows = new Map<string, Window>()

  constructor(windowMs = 60_000) {
    this.windowMs = windowMs
  }

  /** One more refusal from `source` at `now` (epoch ms). */
  count(source: string, now: number): void {
    const start = now - (now % this.windowMs)
    const key = `${start} ${source}`
    const window = this.windows.get(key)
    if (window) window.count++
    else this.windows.set(key, { source, start, count: 1 })
  }

  /** When the earliest open window closes (epoch ms), or undefined when none is open. */
  nextClose(): number | undefined {
    let earliest: number | undefined
    for (const window of this.windows.values())
      if (earliest === undefined || window.start < earliest) earliest = window.start
    return earliest === undefined ? undefined : earliest + this.windowMs
  }

  /** The windows closed by `now` (every window with Infinity) as audit records, oldest first; forgotten. */
  drain(now: number): AuditRecord[] {
    const closed = [...this.windows.entries()]
      .filter(([, w]) => w.start + this.windowMs <= now)
      .sort(([, a], [, b]) => a.start - b.start)
    for (const [key] of closed) this.windows.delete(key)
    return closed.map(([, w]) => ({
      actor: { name: "unauthenticated", via: "api" },
      action: "api.unauthenticated",
      target: w.source,
      params: {
        count: w.count,
        from: new Date(w.start).toISOString(),
        to: new Date(w.start + this.windowMs).toISOString(),
      },
      result: "denied",
      detail: `${w.count} request${w.count === 1 ? "" : "s"} without a valid credential refused (401)`,
    }))
  }
}
