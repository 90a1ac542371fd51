// Scaling a unit to a count of instances (`sam scale`, the autoscaler, start-on-demand): new
// instances start once the unit's dependencies are ready, the highest-numbered ones beyond the
// count are drained, stopped and released. supervisor.ts owns the units; this changes their runners.
import { Duration, Effect, type Fiber, Semaphore } from "effect"
import type { SamEventBody } from "../eventBus.ts"
import { maxInstancesOf, type UnitSpec } from "../unitSpec.ts"
import {
  SamStopping,
  type ScaleOptions,
  ScaleRefused,
  type SupervisorMemory,
  type UnitNotFound,
} from "./contracts.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { stopRunners } from "./shutdown.ts"
import { completed, isDown, type Unit } from "./unit.ts"

/** What scaling needs of the supervisor. */
export interface ScalingContext {
  readonly stopping: () => boolean
  readonly lookup: (id: string) => Effect.Effect<Unit, UnitNotFound>
  /** One scale of a unit at a time (`sam scale` and the autoscaler may meet). */
  readonly scaleLocks: Map<string, Semaphore.Semaphore>
  readonly memory: SupervisorMemory | undefined
  readonly resetWindow: (runner: InstanceRunner) => void
  readonly runnerFor: (spec: UnitSpec, index: number) => InstanceRunner
  /** Start the unit (its dependencies first) in the background. */
  readonly startFiber: (id: string) => Effect.Effect<Fiber.Fiber<void, unknown>>
  readonly publish: (event: SamEventBody) => void
  /** Tell whoever waits on the unit's runners that they changed. */
  readonly reshape: () => void
}

/**
 * Run `count` instances of a unit (0 to its scaling.max_instances). Each instance keeps its port
 * across scaling (ports are per instance number).
 */
export const scale = (
  ctx: ScalingContext,
  id: string,
  count: number,
  options: ScaleOptions,
): Effect.Effect<void, UnitNotFound | ScaleRefused | SamStopping> =>
  Effect.suspend(() => {
    let lock = ctx.scaleLocks.get(id)
    if (lock === undefined) {
      lock = Semaphore.makeUnsafe(1)
      ctx.scaleLocks.set(id, lock)
    }
    return lock.withPermit(scaleNow(ctx, id, count, options))
  })

const scaleNow = (
  ctx: ScalingContext,
  id: string,
  count: number,
  options: ScaleOptions,
): Effect.Effect<void, UnitNotFound | ScaleRefused | SamStopping> =>
  Effect.gen(function* () {
    if (ctx.stopping()) return yield* new SamStopping({ message: `cannot scale "${id}": SAM is stopping` })
    const unit = yield* ctx.lookup(id)
    const max = maxInstancesOf(unit.spec)
    if (!Number.isInteger(count) || count < 0 || count > max) {
      return yield* new ScaleRefused({
        unit: id,
        instances: count,
        max,
        message: `cannot scale "${id}" to ${count} instances: it may run 0 to ${max} (scaling.max_instances)`,
      })
    }
    const current = unit.runners.length
    // Kept across SAM restarts until scaled again (back to the config's count: forgotten).
    if (count !== current && options.remember !== false && ctx.memory !== undefined) {
      const by = options.by ?? "library"
      const kept = count === unit.spec.instances ? undefined : count
      ctx.memory.setScaled(unit.spec, kept, by)
      unit.keptScale = kept === undefined ? undefined : { instances: kept, by, at: new Date().toISOString() }
    }
    const publish = (detail: string) =>
      ctx.publish({
        type: "supervisor",
        action: "scale",
        unit: id,
        detail: options.reason ?? detail,
      })
    if (count > current) {
      unit.runners = [
        ...unit.runners,
        ...Array.from({ length: count - current }, (_, i) => ctx.runnerFor(unit.spec, current + i)),
      ]
      unit.doneThenScaledAway = undefined
      ctx.reshape()
      publish(`${id}: scaled from ${current} to ${count} instances`)
      if (options.start === false) return
      ctx.memory?.setDesired(unit.spec, "running", options.by ?? "library")
      yield* ctx.startFiber(id)
      return
    }
    if (count === current) return
    const done = count === 0 && completed(unit.runners)
    const leaving = unit.runners.slice(count)
    for (const r of leaving) r.draining = true
    publish(`${id}: scaling from ${current} to ${count} instances`)
    yield* Effect.forEach(
      leaving,
      (r) =>
        Effect.gen(function* () {
          // In-flight requests finish first (bounded by the stop grace period), then the stop.
          if (options.drain && !isDown(r))
            yield* options
              .drain(id, r.index)
              .pipe(Effect.timeoutOption(Duration.millis(unit.spec.stop.graceMs)))
          yield* stopRunners([r], {
            type: "STOP",
            reason: `scaled to ${count} ${count === 1 ? "instance" : "instances"}`,
          })
          yield* r.dispose()
          ctx.resetWindow(r)
          unit.retiredRestarts = (unit.retiredRestarts ?? 0) + r.restarts
        }),
      { concurrency: "unbounded", discard: true },
    )
    unit.runners = unit.runners.filter((r) => !leaving.includes(r))
    unit.doneThenScaledAway = done
    ctx.reshape()
    const left = unit.runners.length
    ctx.publish({
      type: "supervisor",
      action: "scaled",
      unit: id,
      detail: `${id}: ${leaving.length} drained and stopped, ${left} ${left === 1 ? "instance" : "instances"} left`,
    })
  })
