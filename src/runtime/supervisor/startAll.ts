// Starting several units (`sam start`, SAM's own start): each is started after its dependencies,
// the start completes once every instance has settled (or at the timeout) and reports which are
// ready, and for each one that is not, its state and why (held by an operator's stop, scaled to 0,
// waiting for dependencies, or its instance's own reason).
import { Duration, Effect, type Fiber } from "effect"
import { defaultGatewaySpec } from "../gatewaySpec.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { DesiredIntent, StartReport } from "./contracts.ts"
import { pendingText, satisfied } from "./dependencies.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { completed, type Unit } from "./unit.ts"
import { heldReason, type UnitStatus } from "./unitStatus.ts"

/** What starting several units needs of the supervisor. */
export interface StartAllContext {
  readonly units: ReadonlyMap<string, Unit>
  readonly stopping: () => boolean
  /** One start per unit at a time (dependencies first), in the background. */
  readonly startFiber: (id: string) => Effect.Effect<Fiber.Fiber<void, unknown>>
  /** Who stopped a unit for good (an operator's stop kept across SAM restarts), if anyone. */
  readonly heldBy: (id: string) => DesiredIntent | undefined
  /** Units whose start waits for a dependency. */
  readonly waiting: ReadonlySet<string>
  readonly status: (unit: Unit) => UnitStatus
  /** Done at the next change of which runners exist (a config reload replaced a unit, a scale). */
  readonly runnersChanged: () => Effect.Effect<void>
}

/**
 * Done starting: ready, given up on, down again after having been started, or waiting out a
 * backoff after failing (as `compose up --wait` answers once a container exits): the report says
 * so with when SAM tries again, instead of holding the start for the backoff (a minute, maybe).
 */
const settled = (r: InstanceRunner) =>
  (r.state === "running" && r.ready) ||
  (r.state === "crashed" && r.launched) ||
  (r.state === "stopped" && r.launched) ||
  (r.state === "backoff" && r.launched)

/**
 * Start `ids` in dependency order; completes when each is ready or settled, or at the timeout,
 * with who is ready. Units an operator stopped for good stay stopped (and say so).
 */
export const startAll = (
  ctx: StartAllContext,
  timeoutMs: number,
  ids: ReadonlyArray<string>,
): Effect.Effect<StartReport> =>
  Effect.gen(function* () {
    if (ctx.stopping()) return report(ctx, ids)
    // An operator's stop outlives SAM restarts: those units stay stopped.
    const starting = ids.filter((id) => ctx.heldBy(id) === undefined)
    yield* Effect.forEach(starting, (id) => ctx.startFiber(id), { discard: true })
    yield* Effect.forEach(starting, (id) => untilSettledAcrossReloads(ctx, id), {
      concurrency: "unbounded",
      discard: true,
    }).pipe(Effect.timeoutOption(Duration.millis(timeoutMs)))
    return report(ctx, ids)
  })

/** A dependency that will not come up by itself: given up on, ended, or blocked in turn. */
type BlockContext = Pick<StartAllContext, "units" | "waiting">

const goneForGood = (ctx: BlockContext, id: string, seen: Set<string>): boolean => {
  if (seen.has(id)) return false
  seen.add(id)
  const unit = ctx.units.get(id)
  if (unit === undefined) return false
  if (blocked(ctx, unit, seen)) return true
  return (
    unit.runners.length > 0 &&
    unit.runners.every(
      (r) => (r.state === "crashed" && !r.detail.retrying) || (r.state === "stopped" && r.launched),
    )
  )
}

/** Waiting for a dependency that will not come up by itself (its start never happens). */
const blocked = (ctx: BlockContext, unit: Unit, seen = new Set<string>()): boolean =>
  ctx.waiting.has(unit.spec.id) &&
  unit.spec.dependsOn.some((d) => !satisfied(ctx.units, unit.spec, d) && goneForGood(ctx, d, new Set(seen)))

/** Every unit `unit` depends on, at any depth. */
const dependencyClosure = (ctx: BlockContext, unit: Unit, into = new Set<string>()): Set<string> => {
  for (const d of unit.spec.dependsOn) {
    if (into.has(d)) continue
    into.add(d)
    const dep = ctx.units.get(d)
    if (dep) dependencyClosure(ctx, dep, into)
  }
  return into
}

/** Until `id` waits for a dependency that has failed for good (its start will not happen). */
export const untilBlocked = (
  ctx: Pick<StartAllContext, "units" | "waiting">,
  id: string,
): Effect.Effect<void> => {
  const unit = ctx.units.get(id)
  if (unit === undefined) return Effect.never
  const watched = [...dependencyClosure(ctx, unit)].flatMap((d) => ctx.units.get(d)?.runners ?? [])
  const all = [...watched, ...unit.runners]
  return all.length === 0 ? Effect.never : Effect.raceAll(all.map((r) => r.until(() => blocked(ctx, unit))))
}

/**
 * How long an instance may run before it is ready, by what its slowest readiness check needs to
 * fail for good (start period, failure threshold × interval, its timeout); 0 without one.
 */
export const readinessBudgetMs = (spec: UnitSpec): number =>
  Math.max(
    0,
    ...spec.probes
      .filter((p) => p.role !== "liveness")
      .map((p) => p.startPeriodMs + p.failureThreshold * p.intervalMs + p.timeoutMs),
  )

/** Ready or down (settled), or running and still not ready once its readiness check had its time. */
const untilInstanceSettled = (r: InstanceRunner, budgetMs: number): Effect.Effect<void> =>
  budgetMs === 0
    ? r.until(settled)
    : Effect.raceFirst(
        r.until(settled),
        Effect.andThen(
          r.until((x) => x.state === "running"),
          Effect.sleep(Duration.millis(budgetMs)),
        ),
      )

/**
 * A unit has settled when each instance has (ready, down after starting, or not ready within
 * what its readiness check allows), or when it waits for a dependency that has failed for good or
 * has settled without being what it waits for (not ready, crashed and retrying later): `sam start`
 * then reports it at once, not at the timeout.
 */
const untilUnitSettled = (ctx: BlockContext, id: string): Effect.Effect<void> => {
  const unit = ctx.units.get(id)
  if (unit === undefined) return Effect.void
  // One instance (most units) is waited on without a fiber of its own, and a unit without
  // dependencies cannot be blocked: no race (at 10,000 agents, three fibers fewer each).
  const budget = readinessBudgetMs(unit.spec)
  const own =
    unit.runners.length === 1
      ? untilInstanceSettled(unit.runners[0]!, budget)
      : Effect.forEach(unit.runners, (r) => untilInstanceSettled(r, budget), {
          concurrency: "unbounded",
          discard: true,
        })
  return unit.spec.dependsOn.length === 0
    ? own
    : Effect.raceAll([own, untilBlocked(ctx, id), untilDependenciesSettledShort(ctx, id)])
}

/**
 * Until every dependency of `id` has settled and one of them is still not what `id` waits for:
 * its start will not happen soon (it keeps waiting; a report says so now). Never otherwise.
 */
export const untilDependenciesSettledShort = (ctx: BlockContext, id: string): Effect.Effect<void> => {
  const unit = ctx.units.get(id)
  if (unit === undefined) return Effect.never
  // A job waited on to complete has settled once it ended (ready, it still runs); others as above.
  const untilDependencySettled = (d: string): Effect.Effect<void> => {
    if (unit.spec.dependencyConditions?.[d] !== "completed") return untilUnitSettled(ctx, d)
    const runners = ctx.units.get(d)?.runners ?? []
    return Effect.forEach(runners, (r) => r.until((x) => x.launched && x.state !== "running" && settled(x)), {
      concurrency: "unbounded",
      discard: true,
    })
  }
  return Effect.andThen(
    Effect.forEach(unit.spec.dependsOn, untilDependencySettled, { concurrency: "unbounded", discard: true }),
    Effect.suspend(() =>
      ctx.waiting.has(id) && unit.spec.dependsOn.some((d) => !satisfied(ctx.units, unit.spec, d))
        ? Effect.void
        : Effect.never,
    ),
  )
}

/**
 * As untilUnitSettled, for the unit `id` is when it settles: a config reload during the start-up
 * may replace it (or a dependency), and then its new instances are the ones waited on. A unit
 * without dependencies needs no extra fiber for it: its replaced instances are stopped, which
 * settles them, and it is looked up again after. One waiting for a dependency also waits again
 * when runners change (its own, never launched, or its dependency's would not settle).
 */
const untilSettledAcrossReloads = (ctx: StartAllContext, id: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    const unit = ctx.units.get(id)
    if (unit === undefined) return Effect.void
    const again = (settledThis: boolean): Effect.Effect<void> =>
      settledThis && ctx.units.get(id) === unit ? Effect.void : untilSettledAcrossReloads(ctx, id)
    if (unit.spec.dependsOn.length === 0) return Effect.flatMap(untilUnitSettled(ctx, id), () => again(true))
    return Effect.raceFirst(
      Effect.as(untilUnitSettled(ctx, id), true),
      Effect.as(ctx.runnersChanged(), false),
    ).pipe(Effect.flatMap(again))
  })

/** Why a unit with min_instances 0 runs nothing yet, and what starts it (a service: its first request). */
const onDemandReason = (spec: UnitSpec): string => {
  const base = `${spec.id} runs 0 instances (scaling.min_instances: 0) until it is scaled up`
  const routed = spec.kind === "service" && (spec.gateway ?? defaultGatewaySpec).enabled
  return routed ? `${base} or a request for it comes through the gateway (/api/${spec.id}/)` : base
}

const report = (ctx: StartAllContext, ids: ReadonlyArray<string>): StartReport => {
  const ready: string[] = []
  const done: string[] = []
  const notReady: Array<{ id: string; state: string; reason: string }> = []
  for (const id of ids) {
    const unit = ctx.units.get(id)
    if (!unit) continue
    const held = ctx.heldBy(id)
    if (unit.runners.length === 0) notReady.push({ id, state: "stopped", reason: onDemandReason(unit.spec) })
    else if (unit.runners.every((r) => r.state === "running" && r.ready)) ready.push(id)
    else if (completed(unit.runners)) done.push(id)
    else if (held && unit.runners.every((r) => r.state === "stopped"))
      notReady.push({ id, state: "stopped", reason: heldReason(id, held) })
    else {
      const worst = ctx.status(unit)
      const reason = ctx.waiting.has(id)
        ? `waiting for ${pendingText(ctx.units, unit.spec)}`
        : (unit.runners.find((r) => !(r.state === "running" && r.ready))?.reasonNow(Date.now()) ?? "")
      notReady.push({ id, state: worst.state === "running" ? "running.unready" : worst.state, reason })
    }
  }
  return { ready, notReady, ...(done.length === 0 ? {} : { completed: done }) }
}
