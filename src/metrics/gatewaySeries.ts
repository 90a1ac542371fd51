// The gateway's series, fed by a GatewayMetricsSource: requests by service, method and status
// class, their duration and time to first byte (buckets up to 120 s: LLM streams), rate-limit
// refusals, the 503s it answered itself, retries, and each service's breaker state (one series per state, 1 for the current one).
import { Counter, Gauge, Histogram, type Registry } from "prom-client"
import { breakerStates, type GatewayMetricsSource, type GatewayRequestRecord } from "./gatewaySource.ts"

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const methods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** The method as a label: the usual ones, OTHER for the rest (a label must stay bounded). */
export const methodLabel = (method: string): string => {
  const upper = method.toUpperCase()
  return methods.has(upper) ? upper : "OTHER"
}

/** 2xx, 4xx, ...; "none" when no status was sent (client gone, upstream failed mid-way). */
export const codeClass = (status: number): string =>
  status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "none"

export const registerGatewaySeries = (
  registry: Registry,
  source: GatewayMetricsSource,
  onRequest?: (record: GatewayRequestRecord) => void,
): (() => void) => {
  const registers = [registry]
  const requests = new Counter({
    name: "sam_gateway_requests_total",
    help: "Requests the gateway proxied, by service, method and status class (2xx, 4xx, 5xx, none).",
    labelNames: ["service", "method", "code_class"],
    registers,
  })
  const duration = new Histogram({
    name: "sam_gateway_request_duration_seconds",
    help: "From a proxied request's arrival to the end of its response, by service, method and status class.",
    labelNames: ["service", "method", "code_class"],
    buckets,
    registers,
  })
  const firstByte = new Histogram({
    name: "sam_gateway_time_to_first_byte_seconds",
    help: "From a proxied request's arrival to the first byte of its response, by service and method.",
    labelNames: ["service", "method"],
    buckets,
    registers,
  })
  const rateLimited = new Counter({
    name: "sam_gateway_rate_limited_total",
    help: "Requests the gateway's rate limiter refused (429), by service.",
    labelNames: ["service"],
    registers,
  })
  const refused = new Counter({
    name: "sam_gateway_refused_total",
    help: "Requests the gateway answered itself with a 503 instead of the service, by service and why: max_in_flight, breaker_open, unavailable (no ready instance).",
    labelNames: ["service", "reason"],
    registers,
  })
  const retries = new Counter({
    name: "sam_gateway_retries_total",
    help: "Attempts the gateway made beyond a request's first (a refused or reset connection retried on another instance), by service.",
    labelNames: ["service"],
    registers,
  })
  const transitions = new Counter({
    name: "sam_gateway_breaker_transitions_total",
    help: "Circuit breaker transitions by service and the state entered.",
    labelNames: ["service", "state"],
    registers,
  })
  new Gauge({
    name: "sam_gateway_breaker_state",
    help: "Each service's circuit breaker: one series per state (closed, open, half_open), 1 for the current one.",
    labelNames: ["service", "state"],
    registers,
    collect() {
      this.reset()
      for (const [service, current] of source.breakers())
        for (const state of breakerStates) this.set({ service, state }, state === current ? 1 : 0)
    },
  })
  const offRequests = source.onRequest((record) => {
    const method = methodLabel(record.method)
    const labels = { service: record.service, method, code_class: codeClass(record.status) }
    requests.inc(labels)
    duration.observe(labels, record.durationSeconds)
    if (record.ttfbSeconds !== undefined)
      firstByte.observe({ service: record.service, method }, record.ttfbSeconds)
    if (record.rateLimited) rateLimited.inc({ service: record.service })
    if (record.retries) retries.inc({ service: record.service }, record.retries)
    if (record.refusedBy !== undefined) refused.inc({ service: record.service, reason: record.refusedBy })
    onRequest?.(record)
  })
  const offBreakers = source.onBreaker((change) =>
    transitions.inc({ service: change.service, state: change.state }),
  )
  return () => {
    offRequests()
    offBreakers()
  }
}
