// What the gateway keeps per service between requests, made from its GatewaySpec: balancer,
// outlier detector, breaker, rate-limit buckets, cache, retry budget and counters. Made again
// (counters kept) when a config reload changes the service's gateway settings.
import type { BreakerState } from "../actors/breaker.machine.ts"
import type { GatewaySpec } from "../runtime/gatewaySpec.ts"
import { Balancer } from "./balancer.ts"
import { CircuitBreaker } from "./circuitBreaker.ts"
import type { ServiceCounters } from "./gatewayStats.ts"
import { OutlierDetector } from "./outlierDetector.ts"
import { ResponseCache } from "./responseCache.ts"
import { RetryBudget } from "./slidingWindow.ts"
import { TokenBuckets } from "./tokenBucket.ts"

export interface ServiceState {
  readonly id: string
  readonly spec: GatewaySpec
  /** The spec as JSON, to see whether a reload changed it. */
  readonly specText: string
  readonly balancer: Balancer
  readonly outlier: OutlierDetector
  readonly breaker: CircuitBreaker
  readonly buckets: TokenBuckets | undefined
  readonly cache: ResponseCache | undefined
  readonly budget: RetryBudget
  readonly counters: ServiceCounters
  /** When the last request through the gateway ended (start-on-demand's idle clock). */
  lastActivity: number
}

export const makeServiceState = (
  id: string,
  spec: GatewaySpec,
  counters: ServiceCounters,
  onBreaker: (state: BreakerState, reason: string) => void,
): ServiceState => ({
  id,
  spec,
  specText: JSON.stringify(spec),
  balancer: new Balancer({ policy: spec.balance, weights: spec.weights, slowStartMs: spec.slowStartMs }),
  outlier: new OutlierDetector(spec.outlier),
  breaker: new CircuitBreaker(spec.breaker, onBreaker),
  buckets:
    spec.rateLimit === undefined
      ? undefined
      : new TokenBuckets(spec.rateLimit.requestsPerSecond, spec.rateLimit.burst),
  cache: spec.cache.enabled ? new ResponseCache(spec.cache.maxEntries, spec.cache.maxBytes) : undefined,
  budget: new RetryBudget(spec.retries.budgetPercent),
  counters,
  lastActivity: Date.now(),
})
