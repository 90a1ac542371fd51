// A restart for a reason outside the unit's instances (its watched files changed, its cron
// schedule came): the lifecycle machine says which instances take it (REFRESH: what runs or is
// failing; a crash loop starts at once), and they restart with fresh restart windows and their
// group's failure cleared, as after `sam restart`. watchedFiles.ts and cronRestarts.ts use it.
import type { InstanceRunner } from "./instanceRunner.ts"
import type { Unit } from "./unit.ts"
import type { WatchContext } from "./watchedFiles.ts"

type RefreshContext = Pick<WatchContext, "status" | "clearGroupFailure" | "resetWindow">

/** The instances of `unit` that a REFRESH for `reason` restarts. */
export const refreshing = (unit: Unit, reason: string): ReadonlyArray<InstanceRunner> =>
  unit.runners.filter((r) => r.accepts({ type: "REFRESH", reason }))

/** Restart `runners` of `unit` for `reason`, each with a fresh restart window. */
export const refresh = (
  ctx: RefreshContext,
  unit: Unit,
  runners: ReadonlyArray<InstanceRunner>,
  reason: string,
): void => {
  ctx.clearGroupFailure(unit.spec.group)
  for (const r of runners) {
    ctx.resetWindow(r)
    r.send({ type: "REFRESH", reason })
  }
}

/** Why nothing of `unit` restarted: it runs no instance, it is stopped, or its state. */
export const notRefreshedWhy = (ctx: RefreshContext, unit: Unit, stopped = false): string => {
  const state = ctx.status(unit).state
  return unit.runners.length === 0
    ? "it runs no instance"
    : stopped || state === "stopped"
      ? `it is stopped (\`sam start ${unit.spec.id}\` starts it)`
      : `it is ${state}`
}
