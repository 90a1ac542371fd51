// A unit's watched files (config `watch`): one watcher per unit in the supervisor's FiberMap of
// watchers (watch/unitWatcher.ts does the watching), and what a change does: the lifecycle machine
// says which instances restart (REFRESH), and they restart with fresh restart windows.
// A unit that writes into what it watches (a log file, a cache) would restart for ever, as PM2's
// watch does: changes that come right after each of its starts, several times in a row, pause its
// watching (`watch-loop`) until its `watch` config changes or an operator starts or restarts it.
import { Effect, type Fiber, FiberMap } from "effect"
import { sameValue } from "../configDiff.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { UnitSpec } from "../unitSpec.ts"
import { watchUnitFiles } from "../watch/unitWatcher.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { notRefreshedWhy, refresh, refreshing } from "./refresh.ts"
import type { Unit } from "./unit.ts"
import type { UnitStatus } from "./unitStatus.ts"

/** What watching a unit's files needs of the supervisor. */
export interface WatchContext {
  readonly units: ReadonlyMap<string, Unit>
  readonly stopping: () => boolean
  /** Each watched unit's file watcher, by unit id. */
  readonly watches: FiberMap.FiberMap<string>
  /** Runs a watcher under its unit's key, replacing any other. */
  readonly watchIn: (id: string, watching: Effect.Effect<void>) => Fiber.Fiber<void, unknown>
  readonly status: (unit: Unit) => UnitStatus
  readonly clearGroupFailure: (group: string) => void
  readonly resetWindow: (runner: InstanceRunner) => void
  readonly publish: (event: SamEventBody) => void
}

export interface WatchStreak {
  /** The changes, in a row, that came right after a start this watch's own restart caused. */
  readonly paths: ReadonlyArray<string>
  /** When the watch last restarted the unit. */
  readonly restartedAt: number
}

/** A change this soon (beyond the debounce) after the unit's latest start is likely its own write. */
const selfWriteMs = 2_000
/** So many such changes in a row pause the watching. */
const selfWriteStreak = 3

/** Watch the unit's files while it is configured with `watch` (its watcher replaces any other). */
export const watchFiles = (ctx: WatchContext, spec: UnitSpec): void => {
  const unit = ctx.units.get(spec.id)
  if (unit) resumeWatch(unit)
  if (spec.watch === undefined || ctx.stopping()) return
  const publish = (action: string, detail: string) =>
    ctx.publish({ type: "supervisor", action, unit: spec.id, detail })
  ctx.watchIn(
    spec.id,
    watchUnitFiles(spec.watch, {
      changed: (path) => filesChanged(ctx, spec.id, path),
      failed: (detail) =>
        publish("watch-failed", `${spec.id}: watching ${spec.watch?.paths.join(", ")} failed: ${detail}`),
    }),
  )
}

/** Watching `unit` from scratch: no streak, no pause (a new `watch`, an operator's start or restart). */
export const resumeWatch = (unit: Unit): void => {
  unit.watchStreak = undefined
  unit.watchPaused = undefined
}

/** A unit's spec changes from `before` to `spec`: a changed `watch` closes its watcher, opens the new. */
export const rewatchFiles = (ctx: WatchContext, before: UnitSpec, spec: UnitSpec): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (sameValue(before.watch, spec.watch)) return
    yield* FiberMap.remove(ctx.watches, spec.id)
    watchFiles(ctx, spec)
  })

/**
 * The unit's watched files changed: the lifecycle machine says which instances restart
 * (REFRESH); those start with fresh restart windows, as after `sam restart`. A stopped
 * unit is left alone, and the event says so.
 */
const filesChanged = (ctx: WatchContext, id: string, path: string): void => {
  const unit = ctx.units.get(id)
  if (unit === undefined || ctx.stopping()) return
  const reason = `its files changed (${path})`
  const publish = (action: string, detail: string) =>
    ctx.publish({ type: "supervisor", action, unit: id, detail })
  const streak = unit.watchStreak
  if (unit.watchPaused !== undefined) {
    publish("files-changed", `${id}: ${reason}; not restarted: its watching is paused (watch-loop)`)
    return
  }
  const paths = soonAfterOwnRestart(unit, streak) ? [...(streak?.paths ?? []), path] : []
  if (paths.length >= selfWriteStreak) {
    pause(ctx, unit, id, paths)
    return
  }
  const acting = refreshing(unit, reason)
  publish(
    "files-changed",
    `${id}: ${reason}; ${acting.length > 0 ? "restarting it" : `not restarted: ${notRefreshedWhy(ctx, unit)}`}`,
  )
  if (acting.length === 0) return
  unit.watchStreak = { paths, restartedAt: Date.now() }
  refresh(ctx, unit, acting, reason)
}

/**
 * Whether this change came right after a start the watch's own last restart caused, with every
 * instance still running: what a unit writing into its watched files looks like. A crash loop's
 * restarts, or an edit a while after the start, end the streak.
 */
const soonAfterOwnRestart = (unit: Unit, streak: WatchStreak | undefined): boolean => {
  if (streak === undefined) return false
  const now = Date.now()
  const statuses = unit.runners.map((r) => r.status(now))
  if (statuses.length === 0 || statuses.some((s) => s.state !== "running")) return false
  const latest = Math.max(...statuses.map((s) => s.startedAt ?? 0))
  return latest >= streak.restartedAt && now - latest <= selfWriteMs + (unit.spec.watch?.debounceMs ?? 0)
}

/** The unit's own writes restart it in a loop: its watching is paused, and the event says why. */
const pause = (ctx: WatchContext, unit: Unit, id: string, paths: ReadonlyArray<string>): void => {
  unit.watchStreak = undefined
  const withinMs = selfWriteMs + (unit.spec.watch?.debounceMs ?? 0)
  const files = [...new Set(paths)].join(", ")
  unit.watchPaused = `watching paused: its own writes restarted it ${paths.length} times in a row (${files}); \`sam restart ${id}\` resumes it (add them to watch.ignore)`
  ctx.publish({
    type: "supervisor",
    action: "watch-loop",
    unit: id,
    detail: `${id}: its watched files changed within ${withinMs / 1000} s of each of its last ${paths.length} starts (${files}): it seems to write them itself, so it would restart for ever; watching ${id} is paused until its watch config changes or \`sam restart ${id}\` (add what it writes to watch.ignore)`,
  })
}
