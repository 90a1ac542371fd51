// The gateway's own counters, read through Gateway.stats() (tests, diagnostics): rate-limited
// and shed requests, upstream errors by reason, retries, requests in flight, the cache and each
// breaker's state. Plain numbers on the hot path; snapshot() copies them out. Requests by status
// and their durations are not counted here: each answered request goes once to the metrics'
// GatewayMetricsHub (src/metrics/gatewaySource.ts), whose series are /metrics, the request-rate
// history and the breaker_open alert.
import type { GatewayMetricsHub, GatewayRefusal } from "../metrics/gatewaySource.ts"

export type UpstreamErrorReason = "connect" | "timeout" | "reset" | "client_closed" | "other"

export interface ServiceStats {
  readonly rateLimited: number
  /** Refused by max_in_flight (503). */
  readonly shed: number
  /** Refused by an open breaker (503). */
  readonly breakerRejected: number
  readonly retries: number
  readonly upstreamErrors: Readonly<Record<string, number>>
  readonly inFlight: number
  readonly breaker: "closed" | "open" | "halfOpen"
  readonly cache: { readonly hits: number; readonly misses: number }
}

export interface GatewayStatsSnapshot {
  readonly services: Readonly<Record<string, ServiceStats>>
}

export class ServiceCounters {
  private readonly service: string
  private readonly sink: GatewayMetricsHub | undefined
  readonly upstreamErrors = new Map<string, number>()
  rateLimited = 0
  shed = 0
  breakerRejected = 0
  retries = 0
  inFlight = 0
  cacheHits = 0
  cacheMisses = 0

  constructor(service: string, sink?: GatewayMetricsHub) {
    this.service = service
    this.sink = sink
  }

  /**
   * One request has ended with `status` sent to the client (499 here when the client went away:
   * the metrics record 0, nothing was sent), after `seconds`.
   */
  answered(
    method: string,
    status: number,
    seconds: number,
    more?: {
      readonly ttfbSeconds?: number | undefined
      readonly rateLimited?: boolean
      readonly retries?: number
      readonly refusedBy?: GatewayRefusal | undefined
    },
  ): void {
    // No record is made while nothing listens (a gateway without monitoring).
    if (!this.sink?.listening) return
    this.sink.requestCompleted({
      service: this.service,
      method,
      status: status === 499 ? 0 : status,
      durationSeconds: seconds,
      ...(more?.ttfbSeconds === undefined ? {} : { ttfbSeconds: more.ttfbSeconds }),
      ...(more?.rateLimited ? { rateLimited: true } : {}),
      ...(more?.retries ? { retries: more.retries } : {}),
      ...(more?.refusedBy === undefined ? {} : { refusedBy: more.refusedBy }),
    })
  }

  upstreamError(reason: UpstreamErrorReason): void {
    this.upstreamErrors.set(reason, (this.upstreamErrors.get(reason) ?? 0) + 1)
  }
}

export class GatewayStats {
  private readonly services = new Map<string, ServiceCounters>()
  private readonly breakerState: (service: string) => "closed" | "open" | "halfOpen"
  private readonly sink: GatewayMetricsHub | undefined

  constructor(breakerState: (service: string) => "closed" | "open" | "halfOpen", sink?: GatewayMetricsHub) {
    this.breakerState = breakerState
    this.sink = sink
  }

  of(service: string): ServiceCounters {
    let counters = this.services.get(service)
    if (counters === undefined) {
      counters = new ServiceCounters(service, this.sink)
      this.services.set(service, counters)
    }
    return counters
  }

  snapshot(): GatewayStatsSnapshot {
    const services: Record<string, ServiceStats> = {}
    for (const [id, c] of this.services)
      services[id] = {
        rateLimited: c.rateLimited,
        shed: c.shed,
        breakerRejected: c.breakerRejected,
        retries: c.retries,
        upstreamErrors: Object.fromEntries(c.upstreamErrors),
        inFlight: c.inFlight,
        breaker: this.breakerState(id),
        cache: { hits: c.cacheHits, misses: c.cacheMisses },
      }
    return { services }
  }
}
