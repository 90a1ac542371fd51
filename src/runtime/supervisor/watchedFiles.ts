// A unit's watched files (config `watch`): one watcher per unit in the supervisor's FiberMap of
// watchers (watch/unitWatcher.ts does the watching), and what a change does: the lifecycle machine
// says which instances restart (FILES_CHANGED), and they restart with fresh restart windows.
import { Effect, type Fiber, FiberMap } from "effect"
import { sameValue } from "../configDiff.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { UnitSpec } from "../unitSpec.ts"
import { watchUnitFiles } from "../watch/unitWatcher.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
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

/** Watch the unit's files while it is configured with `watch` (its watcher replaces any other). */
export const watchFiles = (ctx: WatchContext, spec: UnitSpec): void => {
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

/** A unit's spec changes from `before` to `spec`: a changed `watch` closes its watcher, opens the new. */
export const rewatchFiles = (ctx: WatchContext, before: UnitSpec, spec: UnitSpec): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (sameValue(before.watch, spec.watch)) return
    yield* FiberMap.remove(ctx.watches, spec.id)
    watchFiles(ctx, spec)
  })

/**
 * The unit's watched files changed: the lifecycle machine says which instances restart
 * (FILES_CHANGED); those start with fresh restart windows, as after `sam restart`. A stopped
 * unit is left alone, and the event says so.
 */
const filesChanged = (ctx: WatchContext, id: string, path: string): void => {
  const unit = ctx.units.get(id)
  if (unit === undefined || ctx.stopping()) return
  const reason = `its files changed (${path})`
  const event = { type: "FILES_CHANGED", reason } as const
  const acting = unit.runners.filter((r) => r.accepts(event))
  const state = ctx.status(unit).state
  const why =
    unit.runners.length === 0
      ? "it runs no instance"
      : state === "stopped"
        ? `it is stopped (\`sam start ${id}\` starts it)`
        : `it is ${state}`
  ctx.publish({
    type: "supervisor",
    action: "files-changed",
    unit: id,
    detail: `${id}: ${reason}; ${acting.length > 0 ? "restarting it" : `not restarted: ${why}`}`,
  })
  if (acting.length === 0) return
  ctx.clearGroupFailure(unit.spec.group)
  for (const r of acting) {
    ctx.resetWindow(r)
    r.send(event)
  }
}
