// The gateway's counters, read by the metrics work (sam_proxy_* families): requests by service,
// method and code class, duration and time-to-first-byte histograms, rate-limited and shed
// requests, upstream errors by reason, retries, and each breaker's state. Plain numbers on the
// hot path; snapshot() copies them out. Each answered request is also pushed to the metrics'
// GatewayMetricsHub (src/metrics/gatewaySource.ts), which feeds /metrics, the request-rate
// history and the breaker_open alert.
import type { GatewayMetricsHub } from "../metrics/gatewaySource.ts"

/** Upper bounds in seconds, wide enough for LLM streams. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
] as const

export type CodeClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx"

export type UpstreamErrorReason = "connect" | "timeout" | "reset" | "client_closed" | "other"

export interface Histogram {
  /** Cumulative counts per upper bound of DURATION_BUCKETS, then +Inf. */
  readonly buckets: ReadonlyArray<number>
  readonly sum: number
  readonly count: number
}

export interface ServiceStats {
  /** `"GET 2xx"` → count. */
  readonly requests: Readonly<Record<string, number>>
  readonly duration: Histogram
  readonly ttfb: Histogram
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

class MutableHistogram {
  readonly counts = new Float64Array(DURATION_BUCKETS.length + 1)
  sum = 0
  count = 0

  observe(seconds: number): void {
    let i = 0
    while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] as number)) i++
    this.counts[i] = (this.counts[i] ?? 0) + 1
    this.sum += seconds
    this.count++
  }

  snapshot(): Histogram {
    const buckets: number[] = []
    let running = 0
    for (const c of this.counts) {
      running += c
      buckets.push(running)
    }
    return { buckets, sum: this.sum, count: this.count }
  }
}

export class ServiceCounters {
  private readonly service: string
  private readonly sink: GatewayMetricsHub | undefined
  readonly requests = new Map<string, number>()
  readonly duration = new MutableHistogram()
  readonly ttfb = new MutableHistogram()
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
    more?: { readonly ttfbSeconds?: number | undefined; readonly rateLimited?: boolean },
  ): void {
    const key = `${method} ${codeClass(status)}`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    this.duration.observe(seconds)
    this.sink?.requestCompleted({
      service: this.service,
      method,
      status: status === 499 ? 0 : status,
      durationSeconds: seconds,
      ...(more?.ttfbSeconds === undefined ? {} : { ttfbSeconds: more.ttfbSeconds }),
      ...(more?.rateLimited ? { rateLimited: true } : {}),
    })
  }

  upstreamError(reason: UpstreamErrorReason): void {
    this.upstreamErrors.set(reason, (this.upstreamErrors.get(reason) ?? 0) + 1)
  }
}

export const codeClass = (status: number): CodeClass =>
  status < 200 ? "1xx" : status < 300 ? "2xx" : status < 400 ? "3xx" : status < 500 ? "4xx" : "5xx"

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
        requests: Object.fromEntries(c.requests),
        duration: c.duration.snapshot(),
        ttfb: c.ttfb.snapshot(),
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
