// What the metrics need from the gateway: one record per completed proxied request and every
// breaker transition, pushed to listeners. The gateway implements GatewayMetricsSource (or
// publishes through GatewayMetricsHub); gatewaySeries.ts, the request-rate history and the
// breaker_open alert subscribe to it. Nothing here imports the gateway.

/** One proxied request that has ended (answered, failed or cut off). */
export interface GatewayRequestRecord {
  /** The service the request was routed to (`/api/<service>/...`). */
  readonly service: string
  /** The request method as sent (labels fold anything but the usual methods into OTHER). */
  readonly method: string
  /** The status sent to the client; 0 when none was (the client went away, the upstream failed mid-way). */
  readonly status: number
  /** From the request's arrival to the end of the response. */
  readonly durationSeconds: number
  /** From the request's arrival to the first byte of the response; absent when no byte was sent. */
  readonly ttfbSeconds?: number
  /** The rate limiter refused it (its status is then the 429 the client got). */
  readonly rateLimited?: boolean
  /** Attempts beyond the first (a connect or reset retried on another instance); absent when none. */
  readonly retries?: number
  /**
   * The gateway answered it itself, not the service: `max_in_flight` (shed), `breaker_open`, or
   * `unavailable` (no ready instance: stopped, starting, in backoff, a failed on-demand start).
   */
  readonly refusedBy?: GatewayRefusal
}

export type GatewayRefusal = "max_in_flight" | "breaker_open" | "unavailable"

export type BreakerState = "closed" | "open" | "half_open"

export const breakerStates: ReadonlyArray<BreakerState> = ["closed", "open", "half_open"]

export interface BreakerChange {
  readonly service: string
  readonly state: BreakerState
}

/**
 * The gateway as a source of metrics. Listeners are called synchronously on the gateway's hot
 * path and must be cheap (the metrics only count and observe).
 */
export interface GatewayMetricsSource {
  /** Every completed request; returns the unsubscribe function. */
  onRequest(listener: (record: GatewayRequestRecord) => void): () => void
  /** Every breaker transition; returns the unsubscribe function. */
  onBreaker(listener: (change: BreakerChange) => void): () => void
  /** Each service's breaker state now (services without a breaker may be absent). */
  breakers(): Iterable<readonly [service: string, state: BreakerState]>
}

/**
 * A ready-made GatewayMetricsSource the gateway can publish into: `requestCompleted` after each
 * request, `breakerChanged` on each transition. A listener that throws is dropped from that call
 * only; the gateway never sees it.
 */
export class GatewayMetricsHub implements GatewayMetricsSource {
  private readonly requestListeners = new Set<(record: GatewayRequestRecord) => void>()
  private readonly breakerListeners = new Set<(change: BreakerChange) => void>()
  private readonly states = new Map<string, BreakerState>()

  /** Someone takes request records: without, the gateway makes none. */
  get listening(): boolean {
    return this.requestListeners.size > 0
  }

  onRequest(listener: (record: GatewayRequestRecord) => void): () => void {
    this.requestListeners.add(listener)
    return () => {
      this.requestListeners.delete(listener)
    }
  }

  onBreaker(listener: (change: BreakerChange) => void): () => void {
    this.breakerListeners.add(listener)
    return () => {
      this.breakerListeners.delete(listener)
    }
  }

  breakers(): Iterable<readonly [string, BreakerState]> {
    return this.states.entries()
  }

  requestCompleted(record: GatewayRequestRecord): void {
    for (const listener of this.requestListeners) {
      try {
        listener(record)
      } catch {
        // Metrics must never fail a proxied request.
      }
    }
  }

  /**
   * `service`'s breaker is in `state` now. A service's first report (closed, as its route appears)
   * only starts its series: no listener hears of it, no transition is counted.
   */
  breakerChanged(service: string, state: BreakerState): void {
    const before = this.states.get(service)
    if (before === state) return
    this.states.set(service, state)
    if (before === undefined && state === "closed") return
    for (const listener of this.breakerListeners) {
      try {
        listener({ service, state })
      } catch {
        // As above.
      }
    }
  }

  /** A service left the gateway: its breaker is no longer reported. */
  forget(service: string): void {
    this.states.delete(service)
  }
}
