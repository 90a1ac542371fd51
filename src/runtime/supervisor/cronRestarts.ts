// A unit's `cron_restart` (PM2's): one fiber per scheduled unit in the supervisor's FiberMap of
// watchers, under its own key, sleeping until the schedule's next time. Then what runs or is
// failing restarts (REFRESH, as a watched file's change does: a crash loop starts at once), and a
// job that ended by itself runs again; an operator's stop is kept, and so is a unit being stopped.
import { Duration, Effect, FiberMap } from "effect"
import { nextCronTime } from "../../config/cronSchedule.ts"
import { sameValue } from "../configDiff.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { DesiredIntent } from "./contracts.ts"
import { notRefreshedWhy, refresh, refreshing } from "./refresh.ts"
import type { WatchContext } from "./watchedFiles.ts"

/** What scheduling a unit's restarts needs of the supervisor. */
export interface CronContext extends WatchContext {
  readonly heldBy: (id: string) => DesiredIntent | undefined
  /** Start the unit (its dependencies first): a job that ended. */
  readonly startFiber: (id: string) => Effect.Effect<unknown>
}

/** Its key in the FiberMap of watchers (a unit id never holds "#"). */
export const cronKey = (id: string): string => `cron#${id}`

/** setTimeout's longest wait is ~24.8 days: a schedule further off is slept towards in steps. */
const longestSleepMs = 6 * 60 * 60 * 1000

/** Schedule the unit's restarts while it is configured with `cron_restart` (replacing any other). */
export const scheduleCron = (ctx: CronContext, spec: UnitSpec): void => {
  const pattern = spec.cronRestart
  if (pattern === undefined || ctx.stopping()) return
  ctx.watchIn(cronKey(spec.id), untilEachTime(ctx, spec.id, pattern))
}

/** A unit's spec changes: a changed `cron_restart` ends its schedule and starts the new one. */
export const rescheduleCron = (ctx: CronContext, before: UnitSpec, spec: UnitSpec): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (sameValue(before.cronRestart, spec.cronRestart)) return
    yield* FiberMap.remove(ctx.watches, cronKey(spec.id))
    scheduleCron(ctx, spec)
  })

const untilEachTime = (ctx: CronContext, id: string, pattern: string): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (;;) {
      const due = nextCronTime(pattern, Date.now())
      if (due === undefined) return
      for (let left = due - Date.now(); left > 0; left = due - Date.now())
        yield* Effect.sleep(Duration.millis(Math.min(left, longestSleepMs)))
      yield* cronDue(ctx, id, pattern)
    }
  })

/** The schedule's time came: restart what runs or fails, run again a job that ended. */
const cronDue = (ctx: CronContext, id: string, pattern: string): Effect.Effect<void> =>
  Effect.gen(function* () {
    const unit = ctx.units.get(id)
    if (unit === undefined || ctx.stopping()) return
    const reason = `its cron_restart time came (${pattern})`
    const publish = (detail: string) =>
      ctx.publish({
        type: "supervisor",
        action: "cron-restart",
        unit: id,
        detail: `${id}: ${reason}; ${detail}`,
      })
    const acting = refreshing(unit, reason)
    const ended = unit.runners.filter((r) => r.state === "stopped" && r.endedItself)
    const held = ctx.heldBy(id) !== undefined
    if (acting.length > 0) {
      publish("restarting it")
      refresh(ctx, unit, acting, reason)
      return
    }
    if (ended.length > 0 && ended.length === unit.runners.length && !held) {
      publish("it ended by itself: running it again")
      ctx.clearGroupFailure(unit.spec.group)
      for (const r of ended) ctx.resetWindow(r)
      yield* ctx.startFiber(id)
      return
    }
    publish(`not restarted: ${notRefreshedWhy(ctx, unit, held)}`)
  })
