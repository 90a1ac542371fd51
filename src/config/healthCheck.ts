// health_check of an agent or service. The probe type is inferred when omitted: http for an
// endpoint, exec for a command, log for a log_line, tcp for a port alone (crossChecks.ts reports a
// check with none).

import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import {
  NonEmpty,
  optional,
  Port,
  PositiveCount,
  PositiveSeconds,
  Seconds,
  withDefault,
} from "./schemaPrimitives.ts"

/** Kinds SAM ships with; plugins register more (checked at run time, warned about here). */
export const BUILTIN_PROBE_TYPES = ["http", "tcp", "exec", "log", "heartbeat"] as const
const ProbeType = Schema.NonEmptyString.annotate({
  description: "http, tcp, exec, log, heartbeat (agents), or a kind registered by a plugin.",
  examples: [...BUILTIN_PROBE_TYPES],
})
const ProbeKind = Schema.Literals(["readiness", "liveness", "both"])

const HealthCheckInput = Schema.Struct({
  type: optional(
    ProbeType,
    "Probe kind. Default: http with an endpoint, exec with a command, tcp with only a port.",
  ),
  endpoint: optional(NonEmpty, 'HTTP path on the unit\'s port ("/health") or a full URL.'),
  port: optional(Port, "Port to probe (default: the unit's port)."),
  command: optional(NonEmpty, "Shell command for exec probes; exit 0 means healthy."),
  log_line: optional(
    NonEmpty,
    'Regular expression (RE2 syntax: no back-references or lookaround) for log probes: ready once an output line of the instance matches ("listening on").',
  ),
  expected_status: optional(
    Schema.Int.check(Schema.isBetween({ minimum: 100, maximum: 599 })),
    "HTTP status that counts as healthy (default: any 2xx or 3xx).",
  ),
  interval_seconds: PositiveSeconds.pipe(withDefault(10)),
  timeout_seconds: PositiveSeconds.pipe(withDefault(3)),
  failure_threshold: PositiveCount.pipe(withDefault(3, "Consecutive failures before the unit is unhealthy.")),
  success_threshold: PositiveCount.pipe(withDefault(1, "Consecutive successes before the unit is healthy.")),
  start_period_seconds: Seconds.pipe(
    withDefault(0, "Failures during this grace period after start are ignored."),
  ),
  kind: ProbeKind.pipe(withDefault("both", "readiness gates dependents, liveness triggers restarts.")),
}).annotate({ identifier: "HealthCheck" })

export const HealthCheckDecoded = Schema.Struct({
  type: ProbeType,
  endpoint: Schema.optionalKey(Schema.String),
  port: Schema.optionalKey(Schema.Number),
  command: Schema.optionalKey(Schema.String),
  log_line: Schema.optionalKey(Schema.String),
  expected_status: Schema.optionalKey(Schema.Number),
  interval_seconds: Schema.Number,
  timeout_seconds: Schema.Number,
  failure_threshold: Schema.Number,
  success_threshold: Schema.Number,
  start_period_seconds: Schema.Number,
  kind: ProbeKind,
})

export type HealthCheckConfig = typeof HealthCheckDecoded.Type
type Input = typeof HealthCheckInput.Type

/** The probe type a health check gets when it names none. */
export const inferProbeType = (check: {
  readonly endpoint?: unknown
  readonly command?: unknown
  readonly log_line?: unknown
  readonly port?: unknown
}): "http" | "exec" | "log" | "tcp" => {
  if (check.endpoint !== undefined) return "http"
  if (check.command !== undefined) return "exec"
  if (check.log_line !== undefined) return "log"
  if (check.port !== undefined) return "tcp"
  return "http"
}

export const HealthCheckSchema = HealthCheckInput.pipe(
  Schema.decodeTo(
    HealthCheckDecoded,
    SchemaTransformation.transform<HealthCheckConfig, Input>({
      decode: (input) => ({ ...input, type: input.type ?? inferProbeType(input) }),
      encode: (check) => check,
    }),
  ),
)
