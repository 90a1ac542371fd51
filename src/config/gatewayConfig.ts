// The `services.<id>.gateway` block: how the gateway serves /api/<id>/... (balancing, outlier
// ejection, timeouts, retries, breaker, load shedding, rate limit, cache, auth). schema.ts puts
// it in ServiceSchema; fromConfig.ts turns it into the runtime's GatewaySpec (docs/GATEWAY.md).
import * as Schema from "effect/Schema"
import {
  Count,
  optional,
  PositiveCount,
  PositiveNumber,
  PositiveSeconds,
  Seconds,
  withDefault,
} from "./schemaPrimitives.ts"

/** Milliseconds, 0 allowed, at most a day. */
const Millis = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 86_400_000 }))
/** Milliseconds above 0, at most a day. */
const PositiveMillis = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400_000 }))
const Percent = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 100 }))

export const BALANCE_POLICIES = ["least_request", "round_robin", "weighted", "hash"] as const

const Timeouts = Schema.Struct({
  connect_ms: PositiveMillis.pipe(withDefault(5_000, "Connecting to an instance.")),
  ttfb_ms: PositiveMillis.pipe(
    withDefault(60_000, "From sending the request to the response headers (time to first byte)."),
  ),
  idle_ms: Millis.pipe(
    withDefault(
      300_000,
      "Longest pause between two response body chunks; 0: none. Streams have no total cap.",
    ),
  ),
  start_ms: PositiveMillis.pipe(
    withDefault(60_000, "How long a request is held while a stopped on-demand service starts."),
  ),
}).annotate({ identifier: "GatewayTimeouts" })

const Retries = Schema.Struct({
  attempts: PositiveCount.pipe(
    withDefault(2, "Tries in all (first included) of an idempotent request that found no answer; 1: none."),
  ),
  budget_percent: Percent.pipe(
    withDefault(20, "Retries stay under this share of the requests (10 s window)."),
  ),
  backoff_ms: Millis.pipe(withDefault(25, "Base of the jittered exponential backoff between tries.")),
}).annotate({ identifier: "GatewayRetries" })

const Breaker = Schema.Struct({
  enabled: Schema.Boolean.pipe(withDefault(true)),
  window_seconds: PositiveSeconds.pipe(withDefault(10, "The sliding window of calls judged.")),
  min_requests: PositiveCount.pipe(withDefault(20, "Calls in the window before the breaker may open.")),
  failure_percent: Percent.pipe(
    withDefault(50, "Open when this share of the window's calls failed (5xx, no answer)."),
  ),
  slow_call_ms: Millis.pipe(withDefault(0, "A call whose headers took longer is slow; 0: not judged.")),
  slow_call_percent: Percent.pipe(withDefault(100, "Open when this share of the window's calls was slow.")),
  open_seconds: PositiveSeconds.pipe(withDefault(5, "How long it stays open before probing (half-open).")),
  half_open_requests: PositiveCount.pipe(
    withDefault(3, "Probe calls let through half-open; all must succeed to close."),
  ),
}).annotate({ identifier: "GatewayBreaker" })

const Outlier = Schema.Struct({
  consecutive_failures: PositiveCount.pipe(
    withDefault(5, "5xx answers or connect errors in a row that eject an instance."),
  ),
  base_ejection_seconds: PositiveSeconds.pipe(
    withDefault(30, "Ejection time, times the number of times it was ejected."),
  ),
  max_ejection_percent: Percent.pipe(withDefault(50, "Never eject more than this share of the instances.")),
  panic_threshold_percent: Percent.pipe(
    withDefault(50, "Below this share of healthy instances, balance over all of them (panic)."),
  ),
}).annotate({ identifier: "GatewayOutlier" })

const RateLimit = Schema.Struct({
  requests_per_second: PositiveNumber.annotate({ description: "Refill rate of each client's bucket." }),
  burst: optional(PositiveCount, "Bucket size (default: requests_per_second rounded up)."),
  key: Schema.Literals(["ip", "token"]).pipe(
    withDefault("ip", "One bucket per client address, or per credential (the address without one)."),
  ),
}).annotate({ identifier: "GatewayRateLimit" })

const Cache = Schema.Struct({
  enabled: Schema.Boolean.pipe(withDefault(false)),
  max_entries: PositiveCount.pipe(withDefault(1_000)),
  max_bytes: PositiveCount.pipe(withDefault(16 * 1024 * 1024, "All stored bodies together.")),
}).annotate({ identifier: "GatewayCache" })

const Hash = Schema.Struct({
  header: optional(Schema.String, "Stick by this request header's value."),
  cookie: optional(Schema.String, "Stick by this cookie's value."),
}).annotate({ identifier: "GatewayHash" })

export const GatewaySchema = Schema.Struct({
  enabled: Schema.Boolean.pipe(withDefault(true, "false: /api/<id>/ answers 404 (not proxied).")),
  strip_prefix: Schema.Boolean.pipe(
    withDefault(true, "Forward /api/<id>/x as /x; false keeps the whole path."),
  ),
  balance: Schema.Literals(BALANCE_POLICIES).pipe(withDefault("least_request")),
  hash: optional(Hash, "balance hash: the key (default the client address)."),
  weights: optional(
    Schema.Array(PositiveNumber),
    "balance weighted: weight of instance 0, 1, ... (missing ones weigh 1).",
  ),
  slow_start_seconds: Seconds.pipe(
    withDefault(0, "A new instance's share of traffic ramps up over this time; 0: at once."),
  ),
  outlier: Outlier.pipe(withDefault({})),
  timeouts: Timeouts.pipe(withDefault({})),
  retries: Retries.pipe(withDefault({})),
  breaker: Breaker.pipe(withDefault({})),
  max_in_flight: Count.pipe(withDefault(1_024, "Requests in flight to the service; more get 503. 0: none.")),
  max_body_bytes: Count.pipe(
    withDefault(10 * 1024 * 1024, "Largest request body forwarded (413 beyond); 0: no limit."),
  ),
  rate_limit: optional(RateLimit),
  cache: Cache.pipe(withDefault({})),
  auth: optional(
    Schema.Literals(["none", "token"]),
    "token: a control API token or a unit's SAM_GATEWAY_TOKEN is required. Default: none when the API binds loopback, else token.",
  ),
  forward_auth: Schema.Boolean.pipe(
    withDefault(false, "Forward the client's Authorization header to the service."),
  ),
  browser_isolation: Schema.Boolean.pipe(
    withDefault(
      true,
      "Answers carry `Content-Security-Policy: sandbox` (no allow-same-origin): the service's pages cannot act as the browser's SAM session. false: they run in SAM's origin (single-page apps that need it).",
    ),
  ),
}).annotate({ identifier: "Gateway" })

export type GatewayConfig = typeof GatewaySchema.Type
