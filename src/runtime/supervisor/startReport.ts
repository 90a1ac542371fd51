// The start report: which of the units a start was asked for are ready, and for each one that is
// not, its state and why (held by an operator's stop, scaled to 0, waiting for dependencies, or
// its instance's own reason). supervisor.ts returns it from startAll; `sam start` prints it.
import type { DesiredIntent, StartReport } from "./contracts.ts"
import { available } from "./dependencies.ts"
import type { Unit } from "./unit.ts"
import { heldReason, type UnitStatus } from "./unitStatus.ts"

/** What the start report needs of the supervisor. */
export interface StartReportContext {
  readonly units: ReadonlyMap<string, Unit>
  /** Who stopped a unit for good (an operator's stop kept across SAM restarts), if anyone. */
  readonly heldBy: (id: string) => DesiredIntent | undefined
  /** Units whose start waits for a dependency. */
  readonly waiting: ReadonlySet<string>
  readonly status: (unit: Unit) => UnitStatus
}

export const startReport = (ctx: StartReportContext, ids: ReadonlyArray<string>): StartReport => {
  const ready: string[] = []
  const notReady: Array<{ id: string; state: string; reason: string }> = []
  for (const id of ids) {
    const unit = ctx.units.get(id)
    if (!unit) continue
    const held = ctx.heldBy(id)
    if (unit.runners.length === 0)
      notReady.push({
        id,
        state: "stopped",
        reason: `${id} runs 0 instances (scaling.min_instances: 0) until it is scaled up`,
      })
    else if (unit.runners.every((r) => r.state === "running" && r.ready)) ready.push(id)
    else if (held && unit.runners.every((r) => r.state === "stopped"))
      notReady.push({ id, state: "stopped", reason: heldReason(id, held) })
    else {
      const worst = ctx.status(unit)
      const reason = ctx.waiting.has(id)
        ? `waiting for ${unit.spec.dependsOn.filter((d) => !available(ctx.units, d)).join(", ")}`
        : (unit.runners.find((r) => !(r.state === "running" && r.ready))?.context.reason ?? "")
      notReady.push({ id, state: worst.state === "running" ? "running.unready" : worst.state, reason })
    }
  }
  return { ready, notReady }
}
