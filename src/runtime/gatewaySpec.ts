// How the gateway serves one service, as the runtime carries it in UnitSpec.gateway (camelCase,
// milliseconds): fromConfig.ts builds it from `services.<id>.gateway`; src/gateway reads it.
// Plain data: the supervisor never looks at it, and a change of it restarts nothing.

export type BalancePolicy = "least_request" | "round_robin" | "weighted" | "hash"

export interface GatewaySpec {
  readonly enabled: boolean
  readonly stripPrefix: boolean
  readonly balance: BalancePolicy
  /** balance hash: stick by this header or cookie; neither: the client address. */
  readonly hash: { readonly header?: string; readonly cookie?: string }
  /** balance weighted: weight by instance number (missing: 1). */
  readonly weights: ReadonlyArray<number>
  readonly slowStartMs: number
  readonly outlier: {
    readonly consecutiveFailures: number
    readonly baseEjectionMs: number
    readonly maxEjectionPercent: number
    readonly panicThresholdPercent: number
  }
  readonly timeouts: {
    readonly connectMs: number
    readonly ttfbMs: number
    /** 0: no limit between body chunks. */
    readonly idleMs: number
    readonly startMs: number
  }
  readonly retries: { readonly attempts: number; readonly budgetPercent: number; readonly backoffMs: number }
  readonly breaker: {
    readonly enabled: boolean
    readonly windowMs: number
    readonly minRequests: number
    readonly failurePercent: number
    /** 0: slowness is not judged. */
    readonly slowCallMs: number
    readonly slowCallPercent: number
    readonly openMs: number
    readonly halfOpenRequests: number
  }
  /** 0: no limit. */
  readonly maxInFlight: number
  readonly maxBodyBytes: number
  readonly rateLimit?: {
    readonly requestsPerSecond: number
    readonly burst: number
    readonly key: "ip" | "token"
  }
  readonly cache: { readonly enabled: boolean; readonly maxEntries: number; readonly maxBytes: number }
  /** Undefined: none when the API binds loopback, token otherwise. */
  readonly auth?: "none" | "token"
  readonly forwardAuth: boolean
  /**
   * Answers carry `Content-Security-Policy: sandbox ...`: a service's page runs with an opaque
   * origin, not as SAM's (whose cookie and API it would otherwise have). false: as before.
   */
  readonly browserIsolation: boolean
  /** scaling.idle_seconds of a min_instances 0 service: scale it to 0 after this long unused. */
  readonly idleMs?: number
}

/** What a service without a `gateway:` block gets (the schema's defaults). */
export const defaultGatewaySpec: GatewaySpec = {
  enabled: true,
  stripPrefix: true,
  balance: "least_request",
  hash: {},
  weights: [],
  slowStartMs: 0,
  outlier: {
    consecutiveFailures: 5,
    baseEjectionMs: 30_000,
    maxEjectionPercent: 50,
    panicThresholdPercent: 50,
  },
  timeouts: { connectMs: 5_000, ttfbMs: 60_000, idleMs: 300_000, startMs: 60_000 },
  retries: { attempts: 2, budgetPercent: 20, backoffMs: 25 },
  breaker: {
    enabled: true,
    windowMs: 10_000,
    minRequests: 20,
    failurePercent: 50,
    slowCallMs: 0,
    slowCallPercent: 100,
    openMs: 5_000,
    halfOpenRequests: 3,
  },
  maxInFlight: 1_024,
  maxBodyBytes: 10 * 1024 * 1024,
  cache: { enabled: false, maxEntries: 1_000, maxBytes: 16 * 1024 * 1024 },
  forwardAuth: false,
  browserIsolation: true,
}
