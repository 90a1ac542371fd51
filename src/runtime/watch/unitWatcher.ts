// A unit's file watcher (UnitSpec.watch) as an Effect resource: the watchers open when the fiber
// starts and close when it is interrupted (the unit removed, its watch turned off or changed by a
// reload, SAM stopping). Each burst of changes is reported once, after the quiet time, by its
// first path. The supervisor (supervisor.ts) decides what a change does to the unit's instances.
import { existsSync } from "node:fs"
import { Effect } from "effect"
import { watchFiles } from "../fileWatcher.ts"
import type { WatchSpec } from "../unitSpec.ts"
import { describeChange, ignoreRule } from "./ignoreRules.ts"

export interface WatchReports {
  /** A burst of changes is over: the first path that changed, as a reason names it. */
  readonly changed: (path: string) => void
  /** The watcher could not open, or failed later: what happened and what to do, in words. */
  readonly failed: (detail: string) => void
}

/**
 * The path a burst of changes is named by: the first that still exists. An editor's atomic save
 * writes `server.mjs.tmp` (or vim's `4913`) and renames it over `server.mjs`: the file saved is
 * the one left. A burst of deletions only is named by its first path.
 */
const namedChange = (paths: ReadonlyArray<string>): string =>
  paths.find((p) => existsSync(p)) ?? (paths[0] as string)

/** Why watching failed, with the way out for the failures that have one. */
export const describeWatchError = (error: unknown): string => {
  const code = (error as { code?: unknown } | undefined)?.code
  const message = error instanceof Error ? error.message : String(error)
  if (code === "ENOSPC" || code === "EMFILE")
    return `${message}: the system's limit on watched folders is reached (fs.inotify.max_user_watches); narrow watch.paths or add the big folders to watch.ignore`
  if (code === "ENOENT") return `${message}: the watched path is gone; create it again and reload the config`
  return message
}

/**
 * Watch `watch.paths` until interrupted, reporting each settled burst of changes (ignored paths
 * left out) to `reports.changed`; a failure to watch goes to `reports.failed` and ends the fiber.
 *
 * @example
 * ```ts
 * const fiber = Effect.runFork(watchUnitFiles(spec.watch, { changed: console.log, failed: console.error }))
 * // later: Fiber.interrupt(fiber) closes every watcher
 * ```
 */
export const watchUnitFiles = (watch: WatchSpec, reports: WatchReports): Effect.Effect<void> => {
  const open = Effect.try({
    try: () =>
      watchFiles(
        watch.paths,
        (paths) => reports.changed(describeChange(namedChange(paths), watch.relativeTo)),
        {
          debounceMs: watch.debounceMs,
          ignore: ignoreRule(watch),
          onError: (error) => reports.failed(describeWatchError(error)),
        },
      ),
    catch: describeWatchError,
  })
  return Effect.acquireRelease(open, (handle) => Effect.sync(() => handle.close())).pipe(
    Effect.andThen(Effect.never),
    Effect.scoped,
    Effect.catch((detail) => Effect.sync(() => reports.failed(detail))),
  )
}
