// A unit's `depends_on` as the supervisor honours it: which instance's address dependents get
// (SAM_<ID>_URL), a start that waits until its dependencies are available, and the dependents
// restarted once a dependency that restarted is ready again. supervisor.ts starts units through it.
import { Effect, type Fiber, FiberMap } from "effect"
import type { SamEventBody } from "../eventBus.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { DesiredIntent } from "./contracts.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { ForkIn } from "./lifecycleWork.ts"
import { isReady, jobDone, type Unit } from "./unit.ts"

/**
 * The instance whose address dependents get (SAM_<ID>_URL): instance 0 when it is ready, as a
 * scale down removes the highest-numbered instances first and so never it; while instance 0 is
 * coming up, none yet (it is waited for); while it is down (backoff, crashed), another ready one.
 */
export const addressOf = (units: ReadonlyMap<string, Unit>, id: string): InstanceRunner | undefined => {
  const [first, ...rest] = units.get(id)?.runners ?? []
  if (first === undefined) return undefined
  if (isReady(first)) return first
  if (first.state === "starting" || first.state === "running") return undefined
  return rest.find(isReady)
}

/** Whether dependents may start: the instance they will be given is ready. */
export const available = (units: ReadonlyMap<string, Unit>, id: string): boolean =>
  addressOf(units, id) !== undefined

/** Whether `dependent` may start as far as `dep` goes: ready, or its condition (started, completed). */
export const satisfied = (units: ReadonlyMap<string, Unit>, dependent: UnitSpec, dep: string): boolean => {
  const wait = dependent.dependencyConditions?.[dep]
  if (wait === undefined) return available(units, dep)
  const runners = units.get(dep)?.runners ?? []
  return wait === "started"
    ? runners.some((r) => r.state === "running" || r.state === "suspended")
    : jobDone(units.get(dep))
}

/** What `dependent` waits for of `dep`, in words ("migrate to complete"). */
const awaited = (dependent: UnitSpec, dep: string): string => {
  const wait = dependent.dependencyConditions?.[dep]
  return `${dep} to ${wait === "started" ? "start" : wait === "completed" ? "complete" : "be ready"}`
}

/** The dependencies `dependent` still waits for, in words, for the start report. */
export const pendingText = (units: ReadonlyMap<string, Unit>, dependent: UnitSpec): string =>
  dependent.dependsOn
    .filter((d) => !satisfied(units, dependent, d))
    .map((d) => awaited(dependent, d))
    .join(", ")

/**
 * Until `dependent`'s condition on `id` holds, watching `id`'s runners of the moment, and again
 * whenever they change: a reload that replaces a crashed dependency with a fixed one, a scale.
 */
const untilSatisfied = (
  ctx: Pick<DependencyContext, "units" | "runnersChanged">,
  dependent: UnitSpec,
  id: string,
): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (satisfied(ctx.units, dependent, id)) return Effect.void
    const runners = ctx.units.get(id)?.runners ?? []
    const onRunners = runners.map((r) => r.until(() => satisfied(ctx.units, dependent, id)))
    return Effect.raceAll([...onRunners, ctx.runnersChanged()]).pipe(
      Effect.andThen(untilSatisfied(ctx, dependent, id)),
    )
  })

/** What handling dependencies needs of the supervisor. */
export interface DependencyContext {
  readonly units: ReadonlyMap<string, Unit>
  /** Reverse edges of depends_on. */
  readonly dependents: () => ReadonlyMap<string, ReadonlyArray<string>>
  readonly stopping: () => boolean
  /** Who stopped a unit for good (an operator's stop kept across SAM restarts), if anyone. */
  readonly heldBy: (id: string) => DesiredIntent | undefined
  /** Units whose start waits for a dependency, for the start report. */
  readonly waiting: Set<string>
  /** Pending starts, by unit (and dependency restarts, by edge). */
  readonly starts: FiberMap.FiberMap<string>
  /** One start per unit at a time, in the background. */
  readonly startFiber: (id: string) => Effect.Effect<Fiber.Fiber<void, unknown>>
  readonly fork: ForkIn
  readonly publish: (event: SamEventBody) => void
  /** Completes at the next change of which runners exist (Supervisor.reshape). */
  readonly runnersChanged: () => Effect.Effect<void>
}

/** Start a unit once its dependencies are available, starting those nobody stopped for good. */
export const startWhenAvailable = (ctx: DependencyContext, id: string): Effect.Effect<void> =>
  Effect.gen(function* () {
    const unit = ctx.units.get(id)
    if (!unit || ctx.stopping()) return
    for (const dep of unit.spec.dependsOn) {
      const depUnit = ctx.units.get(dep)
      // A dependency the operator stopped stays stopped: the dependent waits for it. A job this
      // unit waits to complete is not run again once it has.
      const done = unit.spec.dependencyConditions?.[dep] === "completed" && jobDone(depUnit)
      // A dependency given up on (crashed) is tried again, as a start of it would: the start of
      // its dependent is an operator's (or a reload's) wish that it run.
      const down = depUnit?.runners.every((r) => r.state === "stopped" || r.state === "crashed")
      if (down && ctx.heldBy(dep) === undefined && !done) yield* ctx.startFiber(dep)
    }
    const pending = unit.spec.dependsOn.filter((d) => !satisfied(ctx.units, unit.spec, d))
    if (pending.length > 0) {
      ctx.waiting.add(id)
      ctx.publish({
        type: "supervisor",
        action: "waiting",
        unit: id,
        detail: `${id}: waiting for ${pending.map((d) => awaited(unit.spec, d)).join(", ")}`,
      })
      yield* Effect.forEach(pending, (d) => untilSatisfied(ctx, unit.spec, d), {
        concurrency: "unbounded",
        discard: true,
      }).pipe(Effect.ensuring(Effect.sync(() => ctx.waiting.delete(id))))
    }
    if (ctx.stopping()) return
    const current = ctx.units.get(id)
    if (current !== unit) return // replaced or removed meanwhile
    for (const runner of unit.runners)
      if (runner.accepts({ type: "START" })) runner.send({ type: "START", reason: "start" })
  })

/**
 * Once `id` is ready again after a restart: its dependents with `dependency_restart: restart`
 * restart, and so does any other instance whose SAM_<ID>_URL no ready instance of `id` serves any
 * more (a reload that moved `id` to another port): the address a dependent was given answers.
 */
export const restartDependentsWhenReady = (ctx: DependencyContext, id: string): void => {
  for (const dependent of ctx.dependents().get(id) ?? []) {
    const unit = ctx.units.get(dependent)
    if (!unit) continue
    const always = unit.spec.dependencyRestart === "restart"
    // `dependency_restart: none` (the default) tells nothing unless an address went stale: a
    // dependency in a spawn-failure loop would otherwise say so at every attempt.
    if (always)
      ctx.publish({
        type: "supervisor",
        action: "dependency-restarted",
        unit: dependent,
        detail: `${dependent}: ${id} restarted; restarting once it is ready`,
      })
    const restart = Effect.andThen(
      untilSatisfied(ctx, unit.spec, id),
      Effect.sync(() => {
        if (ctx.stopping() || ctx.units.get(dependent) !== unit) return
        const live = unit.runners.filter((r) => r.state === "running" || r.state === "suspended")
        if (always) {
          for (const r of live) r.send({ type: "RESTART", reason: `dependency ${id} restarted` })
          return
        }
        const served = new Set(
          ctx.units
            .get(id)
            ?.runners.filter(isReady)
            .map((r) => r.url),
        )
        const stale = live.filter((r) => r.givenUrls[id] !== undefined && !served.has(r.givenUrls[id]))
        const [first] = stale
        if (first === undefined) return
        ctx.publish({
          type: "supervisor",
          action: "dependency-restarted",
          unit: dependent,
          detail: `${dependent}: ${id} moved from ${first.givenUrls[id]} to ${addressOf(ctx.units, id)?.url}; restarting with its new address`,
        })
        for (const r of stale) r.send({ type: "RESTART", reason: `dependency ${id} moved` })
      }),
    )
    // Keyed so a dependency restarting twice before it is ready restarts its dependent once.
    ctx.fork(FiberMap.run(ctx.starts, `dependency:${id}->${dependent}`, restart))
  }
}
