// Small reusable schemas for the config: bounded durations, numbers, ports, non-empty strings,
// signal names, string lists, environment maps, and `withDefault` (a decoding default that also shows up as
// `default` in the generated JSON Schema). Used by schema.ts, restartPolicy.ts, healthCheck.ts.

import { constants } from "node:os"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { didYouMean } from "./suggest.ts"

/** Makes a struct key optional in the input, filled with `value` when absent, documented in the JSON Schema. */
export const withDefault =
  <S extends Schema.Top>(value: S["Encoded"], description?: string) =>
  (schema: S) => {
    // annotate returns S["Rebuild"], which is S itself for every schema used in the config.
    const annotated = schema.annotate(
      description === undefined ? { default: value } : { default: value, description },
    )
    return Schema.withDecodingDefaultKey<S>(Effect.succeed(value))(annotated as S)
  }

/** An optional struct key with a description. */
export const optional = <S extends Schema.Top>(schema: S, description?: string) =>
  Schema.optionalKey(description === undefined ? schema : schema.annotate({ description }))

/**
 * The longest duration any `*_seconds` key accepts: one day. Longer values are typos or overflow
 * attempts (Node timers cap at ~24.8 days, and 1e308 seconds is no timeout anyone means).
 */
export const MAX_SECONDS = 86_400

const atMostADay = Schema.isLessThanOrEqualTo(MAX_SECONDS, {
  expected: `at most ${MAX_SECONDS} seconds (1 day)`,
})

/** A duration in (possibly fractional) seconds, zero allowed, at most a day. */
export const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), atMostADay)
/** A duration in seconds that must be above zero, at most a day. */
export const PositiveSeconds = Schema.Finite.check(Schema.isGreaterThan(0), atMostADay)
/** A finite number above zero (megabytes, percentages). */
export const PositiveNumber = Schema.Finite.check(Schema.isGreaterThan(0))
/** A whole number, zero or more. */
export const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** A whole number, one or more. */
export const PositiveCount = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** A TCP port a unit listens on. */
export const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
/** A string that must not be empty (a command, path, image, URL). */
export const NonEmpty = Schema.String.check(Schema.isMinLength(1, { expected: "a non-empty string" }))

/** A string with something but white space in it (a command of only spaces runs nothing). */
export const NonBlank = Schema.String.check(Schema.isPattern(/\S/, { expected: "a non-empty string" }))

/**
 * Environment variables: each value a string, or a number or boolean written bare (`PORT: 3000`,
 * `DEBUG: true`), taken as its text, as Compose takes it. Decoded to strings.
 */
export const EnvMap = Schema.Record(
  Schema.String,
  Schema.Union([Schema.String, Schema.Finite, Schema.Boolean]).pipe(
    Schema.decodeTo(
      Schema.String,
      SchemaTransformation.transform<string, string | number | boolean>({
        decode: (value) => String(value),
        encode: (value) => value,
      }),
    ),
  ),
)
export const StringList = Schema.Array(Schema.String)

/** Signal names this Node knows (`SIGTERM`, `SIGINT`, ...), spelled as Node spells them. */
export const SIGNAL_NAMES: ReadonlyArray<string> = Object.keys(constants.signals)

// "term" and "sigterm" mean SIGTERM: try the usual spelling first, then string distance.
// The distance is of the names without their common "SIG": SIGFOO is no typo of SIGIOT.
const signalHint = (name: string): string => {
  const upper = name.toUpperCase()
  const spelled = [upper, `SIG${upper}`].find((s) => SIGNAL_NAMES.includes(s))
  if (spelled !== undefined) return ` (did you mean "${spelled}"?)`
  const bare = upper.startsWith("SIG") ? upper.slice(3) : upper
  const hint = didYouMean(
    bare,
    SIGNAL_NAMES.map((s) => s.slice(3)),
  )
  return hint === undefined ? "" : ` (did you mean "SIG${hint}"?)`
}

/** A signal name from os.constants.signals; a typo gets a did-you-mean. */
export const SignalName = Schema.String.check(
  Schema.makeFilter(
    (name: string) =>
      SIGNAL_NAMES.includes(name) ||
      `expected a signal name such as "SIGTERM" (os.constants.signals), found ${JSON.stringify(name)}${signalHint(name)}`,
    // The JSON Schema gives the shape only: the list of names differs between platforms.
    { expected: 'a signal name such as "SIGTERM"', toJsonSchema: () => ({ pattern: "^SIG[A-Z0-9]+$" }) },
  ),
)
