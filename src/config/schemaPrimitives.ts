// Small reusable schemas for the config: numbers with units, ports, string maps, and `withDefault`
// (a decoding default that also shows up as `default` in the generated JSON Schema).

import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

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

/** A duration in (possibly fractional) seconds, zero allowed. */
export const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
/** A duration in seconds that must be above zero. */
export const PositiveSeconds = Schema.Finite.check(Schema.isGreaterThan(0))
/** A whole number, zero or more. */
export const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** A whole number, one or more. */
export const PositiveCount = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** A TCP port a unit listens on. */
export const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
export const StringMap = Schema.Record(Schema.String, Schema.String)
export const StringList = Schema.Array(Schema.String)
