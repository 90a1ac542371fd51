// Refused unauthenticated requests, summed per source address and window (a minute by default):
// a flood of requests without a credential becomes one audit entry per source and minute with a
// count, instead of one per request. Pure; AuditLog drains it when windows close and on close.
import type { AuditRecord } from "./auditEntry.ts"

/** A gateway refusal's service and status; none for the control API's 401s. */
export interface RefusedAt {
  readonly service: string
  readonly status: number
}

/** Refusals of one token's requests (403: its role) written in full per window, before they are summed. */
export const deniedInFull = 5

interface Window {
  readonly source: string
  readonly start: number
  readonly at: RefusedAt | undefined
  /** A token's refused requests: its name and role (`source` is the token's name then). */
  readonly denied?: { readonly role: string }
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

  /**
   * One more request of token `name` refused for its role at `now`: true while it is among the
   * first `deniedInFull` of the window (write it in full), false once past (it is only counted,
   * and the window's count is written when it closes).
   */
  deny(name: string, role: string, now: number): boolean {
    const start = now - (now % this.windowMs)
    const key = `${start} denied ${name}`
    const window = this.windows.get(key) ?? { source: name, start, at: undefined, denied: { role }, count: 0 }
    this.windows.set(key, window)
    window.count++
    return window.count <= deniedInFull
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
    return closed.flatMap(([, w]) => {
      if (w.denied !== undefined) {
        const more = w.count - deniedInFull
        if (more <= 0) return []
        return [
          {
            actor: { name: w.source, role: w.denied.role, via: "api" },
            action: "api.denied",
            target: w.source,
            params: {
              count: more,
              from: new Date(w.start).toISOString(),
              to: new Date(w.start + this.windowMs).toISOString(),
            },
            result: "denied",
            detail: `${more} more request${more === 1 ? "" : "s"} of token "${w.source}" refused for its role ${w.denied.role} (403) after the ${deniedInFull} written in full`,
          },
        ]
      }
      const requests = `${w.count} request${w.count === 1 ? "" : "s"}`
      const window = {
        from: new Date(w.start).toISOString(),
        to: new Date(w.start + this.windowMs).toISOString(),
      }
      if (w.at === undefined)
        return [
          {
            actor: { name: "unauthenticated", via: "api" },
            action: "api.unauthenticated",
            target: w.source,
            params: { count: w.count, ...window },
            result: "denied",
            detail: `${requests} without a valid credential refused (401)`,
          },
        ]
      return [
        {
          actor: { name: "unauthenticated", via: "gateway" },
          action: "gateway.refused",
          target: w.source,
          params: { count: w.count, service: w.at.service, status: w.at.status, ...window },
          result: "denied",
          detail: `${requests} to /api/${w.at.service}/ refused (${w.at.status}: ${w.at.status === 401 ? "without a credential it accepts" : "a credential it does not allow, such as a unit's SAM_GATEWAY_TOKEN outside its depends_on"})`,
        },
      ]
    })
  }
}
