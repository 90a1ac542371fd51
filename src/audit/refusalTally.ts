// Refused unauthenticated requests, summed per source address and window (a minute by default):
// a flood of requests without a credential becomes one audit entry per source and minute with a
// count, instead of one per request. Pure; AuditLog drains it when windows close and on close.
import type { AuditRecord } from "./auditEntry.ts"

/** A gateway refusal's service and status; none for the control API's 401s. */
export interface RefusedAt {
  readonly service: string
  readonly status: number
}

interface Window {
  readonly source: string
  readonly start: number
  readonly at: RefusedAt | undefined
  count: number
}

export class RefusalTally {
  private readonly windowMs: number
  private readonly windows = new Map<string, Window>()

  constructor(windowMs = 60_000) {
    this.windowMs = windowMs
  }

  /** One more refusal from `source` at `now` (epoch ms), of the API or of a service's gateway route. */
  count(source: string, now: number, at?: RefusedAt): void {
    const start = now - (now % this.windowMs)
    const key = `${start} ${source}${at === undefined ? "" : ` ${at.service} ${at.status}`}`
    const window = this.windows.get(key)
    if (window) window.count++
    else this.windows.set(key, { source, start, at, count: 1 })
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
    return closed.map(([, w]) => {
      const requests = `${w.count} request${w.count === 1 ? "" : "s"}`
      const window = {
        from: new Date(w.start).toISOString(),
        to: new Date(w.start + this.windowMs).toISOString(),
      }
      if (w.at === undefined)
        return {
          actor: { name: "unauthenticated", via: "api" },
          action: "api.unauthenticated",
          target: w.source,
          params: { count: w.count, ...window },
          result: "denied",
          detail: `${requests} without a valid credential refused (401)`,
        }
      return {
        actor: { name: "unauthenticated", via: "gateway" },
        action: "gateway.refused",
        target: w.source,
        params: { count: w.count, service: w.at.service, status: w.at.status, ...window },
        result: "denied",
        detail: `${requests} to /api/${w.at.service}/ refused (${w.at.status}: ${w.at.status === 401 ? "without a credential it accepts" : "a credential it does not allow, such as a unit's SAM_GATEWAY_TOKEN outside its depends_on"})`,
      }
    })
  }
}
