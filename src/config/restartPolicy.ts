// The restart_policy of an agent or service: the seed's short form ("always" | "on-failure" | "never")
// or an object; both decode to one fully defaulted RestartPolicyConfig (OTP-style type names).

import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { Count, optional, PositiveSeconds, Seconds, withDefault } from "./schemaPrimitives.ts"

const ShortForm = Schema.Literals(["always", "on-failure", "never"])
const RestartType = Schema.Literals(["permanent", "transient", "temporary"])
/** Past its own intensity a unit is crashed; then "retry" keeps retrying every max_backoff_seconds, "give_up" stays down. */
export const ON_EXHAUSTED = ["retry", "give_up"] as const
const OnExhausted = Schema.Literals(ON_EXHAUSTED)

export const RESTART_DEFAULTS = {
  max_restarts: 5,
  window_seconds: 60,
  backoff_seconds: 1,
  max_backoff_seconds: 300,
  stable_seconds: 10,
  on_exhausted: "retry",
} as const

const ObjectForm = Schema.Struct({
  enabled: optional(Schema.Boolean, "false means never restart (type temporary). Default true."),
  type: optional(
    Schema.Literals(["always", "on-failure", "never", "permanent", "transient", "temporary"]),
    "always/permanent: restart on any exit; on-failure/transient: only on a non-zero exit or crash; never/temporary: never. Default permanent.",
  ),
  max_restarts: Count.pipe(
    withDefault(RESTART_DEFAULTS.max_restarts, "Restarts allowed within window_seconds before giving up."),
  ),
  window_seconds: PositiveSeconds.pipe(withDefault(RESTART_DEFAULTS.window_seconds)),
  backoff_seconds: Seconds.pipe(
    withDefault(RESTART_DEFAULTS.backoff_seconds, "First delay before a restart; doubles each time."),
  ),
  max_backoff_seconds: Seconds.pipe(
    withDefault(
      RESTART_DEFAULTS.max_backoff_seconds,
      "Cap on the restart delay; also the pace of retries after max_restarts (on_exhausted: retry).",
    ),
  ),
  stable_seconds: Seconds.pipe(
    withDefault(RESTART_DEFAULTS.stable_seconds, "Up this long and the backoff starts over."),
  ),
  restart_exit_codes: optional(Schema.Array(Schema.Int), "Exit codes that always restart."),
  no_restart_exit_codes: optional(Schema.Array(Schema.Int), "Exit codes that never restart."),
  on_exhausted: OnExhausted.pipe(
    withDefault(
      RESTART_DEFAULTS.on_exhausted,
      "Past max_restarts in window_seconds the unit is crashed; retry: try again every max_backoff_seconds, indefinitely; give_up: stay down. No effect for never/temporary.",
    ),
  ),
}).annotate({ identifier: "RestartPolicyObject" })

export const RestartPolicyDecoded = Schema.Struct({
  type: RestartType,
  max_restarts: Schema.Number,
  window_seconds: Schema.Number,
  backoff_seconds: Schema.Number,
  max_backoff_seconds: Schema.Number,
  stable_seconds: Schema.Number,
  restart_exit_codes: Schema.Array(Schema.Number),
  no_restart_exit_codes: Schema.Array(Schema.Number),
  on_exhausted: OnExhausted,
})

export type RestartPolicyConfig = typeof RestartPolicyDecoded.Type
type RestartPolicyInput = typeof ShortForm.Type | typeof ObjectForm.Type

const toRestartType = {
  always: "permanent",
  "on-failure": "transient",
  never: "temporary",
  permanent: "permanent",
  transient: "transient",
  temporary: "temporary",
} as const

const decodeRestartPolicy = (input: RestartPolicyInput): RestartPolicyConfig => {
  if (typeof input === "string") {
    return {
      ...RESTART_DEFAULTS,
      type: toRestartType[input],
      restart_exit_codes: [],
      no_restart_exit_codes: [],
    }
  }
  return {
    type: input.enabled === false ? "temporary" : toRestartType[input.type ?? "permanent"],
    max_restarts: input.max_restarts,
    window_seconds: input.window_seconds,
    backoff_seconds: input.backoff_seconds,
    // A first delay above the cap would otherwise be silently shortened.
    max_backoff_seconds: Math.max(input.max_backoff_seconds, input.backoff_seconds),
    stable_seconds: input.stable_seconds,
    restart_exit_codes: input.restart_exit_codes ?? [],
    no_restart_exit_codes: input.no_restart_exit_codes ?? [],
    on_exhausted: input.on_exhausted,
  }
}

export const RestartPolicySchema = Schema.Union([ShortForm, ObjectForm])
  .annotate({ description: 'How the unit is restarted: "always" | "on-failure" | "never" or an object.' })
  .pipe(
    Schema.decodeTo(
      RestartPolicyDecoded,
      SchemaTransformation.transform<RestartPolicyConfig, RestartPolicyInput>({
        decode: decodeRestartPolicy,
        encode: (policy) => ({ ...policy, type: policy.type }),
      }),
    ),
  )

/** The policy used when a unit sets no restart_policy (as written in a file: the short form). */
export const encodedDefaultRestartPolicy = "always" as const
