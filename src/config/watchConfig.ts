// `watch` of an agent or service: restart it when its files change (PM2's `watch`, Compose's
// `develop.watch` with action restart). `true`, `false` or an object; all decode to one WatchConfig.
// The runtime side is src/runtime/watch/ (the watcher) and the supervisor (what a change does).

import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { NonEmpty, optional, withDefault } from "./schemaPrimitives.ts"

export const WATCH_DEFAULTS = {
  debounce_ms: 500,
  /**
   * Always ignored, besides SAM's state dir and an agent's data dir: dependencies, VCS data, log
   * files (a unit writing its own log must not restart itself) and editors' swap and backup files.
   */
  ignore: ["node_modules", ".git", "*.log", "*.swp", "*.swx", "*~"],
} as const

/** The longest quiet time a burst may need: a minute. */
const MAX_DEBOUNCE_MS = 60_000

const ObjectForm = Schema.Struct({
  enabled: optional(Schema.Boolean, "false: not watched (as watch: false). Default true."),
  paths: optional(
    Schema.Array(NonEmpty).check(Schema.isMinLength(1, { expected: "at least one path" })),
    "Files or folders (folders recursively) to watch, relative to this file. Default: the service's deployment.cwd, the agent's path.",
  ),
  ignore: optional(
    Schema.Array(NonEmpty),
    `Glob patterns of changes that restart nothing, besides the defaults (${WATCH_DEFAULTS.ignore.join(", ")}, SAM's state dir, an agent's data_dir). Globs (*, ?, ** across folders, [abc]): without "/" a file or folder name anywhere, with "/" a path from the watched folder; a folder's contents go with it.`,
  ),
  debounce_ms: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_DEBOUNCE_MS })).pipe(
    withDefault(
      WATCH_DEFAULTS.debounce_ms,
      "Quiet time after the last change before the restart: a burst of saves is one restart.",
    ),
  ),
}).annotate({ identifier: "WatchObject" })

const WatchDecoded = Schema.Struct({
  enabled: Schema.Boolean,
  /** Absent: the unit's own directory (watchedPaths). */
  paths: Schema.optionalKey(Schema.Array(Schema.String)),
  ignore: Schema.Array(Schema.String),
  debounce_ms: Schema.Number,
})

export type WatchConfig = typeof WatchDecoded.Type
type WatchInput = boolean | typeof ObjectForm.Type

const decodeWatch = (input: WatchInput): WatchConfig =>
  typeof input === "boolean"
    ? { enabled: input, ignore: [], debounce_ms: WATCH_DEFAULTS.debounce_ms }
    : {
        enabled: input.enabled ?? true,
        ...(input.paths === undefined ? {} : { paths: input.paths }),
        ignore: input.ignore ?? [],
        debounce_ms: input.debounce_ms,
      }

export const WatchSchema = Schema.Union([Schema.Boolean, ObjectForm])
  .annotate({
    description:
      "Restart the unit when its files change (process services and agents): true watches the service's deployment.cwd or the agent's path; or an object.",
  })
  .pipe(
    Schema.decodeTo(
      WatchDecoded,
      SchemaTransformation.transform<WatchConfig, WatchInput>({
        decode: decodeWatch,
        encode: (watch) => watch,
      }),
    ),
  )

/** What a unit's watch needs to know about the unit: where it runs or lives. */
export type WatchedUnit =
  | { readonly kind: "service"; readonly cwd: string | undefined }
  | { readonly kind: "agent"; readonly path: string }

/**
 * The paths a unit's `watch` covers, as written (relative paths already resolved by loadConfig):
 * its `paths`, else the service's working directory or the agent's path (its folder, or its
 * entry file). `base` stands in for a service without a cwd (it runs in the config's folder).
 */
export const watchedPaths = (watch: WatchConfig, unit: WatchedUnit, base: string): ReadonlyArray<string> => {
  if (watch.paths !== undefined) return watch.paths
  if (unit.kind === "agent") return [unit.path]
  return [unit.cwd ?? base]
}
