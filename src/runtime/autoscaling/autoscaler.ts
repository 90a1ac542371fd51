// The autoscaler: every sampling interval it observes each unit with an `autoscale` spec (its
// instances' CPU samples, the gateway's in-flight counts), asks decideScale() for a verdict and
// scales through the environment Sam gives it, one scale per unit at a time. Time is Effect's
// Clock, so a TestClock drives it in tests; its fiber lives in SAM's scope.
import { Cause, Clock, Effect, Exit, type Fiber, FiberSet, type Scope } from "effect"
import type { SamEventBody } from "../eventBus.ts"
import type { UnitStatus } from "../supervisor/unitStatus.ts"
import { maxInstancesOf, type UnitSpec } from "../unitSpec.ts"
import {
  decideScale,
  type ScalingObservation,
  type ScalingPolicy,
  type ScalingState,
} from "./scalingDecision.ts"
import type { UnitTraffic } from "./unitTraffic.ts"

export interface AutoscalerEnvironment {
  /** Every unit; those with an `autoscale` spec are scaled. */
  readonly specs: () => ReadonlyArray<UnitSpec>
  /** Undefined once the unit is gone (a reload removed it since `specs`). */
  readonly status: (id: string) => UnitStatus | undefined
  /** Run `count` instances of `id` (draining those that go); `reason` goes on the bus. */
  readonly scale: (id: string, count: number, reason: string) => Effect.Effect<void, unknown>
  /** The gateway's counts and drain, once one is plugged in. */
  readonly traffic: () => UnitTraffic | undefined
  readonly publish: (event: SamEventBody) => void
  /** How often units are looked at: the usage sampling interval (a new CPU figure each time). */
  readonly intervalMs: number
}

/** The policy of a unit that autoscales. */
export const policyOf = (spec: UnitSpec): ScalingPolicy | undefined =>
  spec.autoscale === undefined
    ? undefined
    : { ...spec.autoscale, min: spec.instances, max: maxInstancesOf(spec) }

/**
 * What the autoscaler sees of a unit: the instances not being scaled away, CPU of those ready and
 * measured over an interval, in-flight counts of those ready (only with a gateway).
 */
export const observe = (
  status: UnitStatus,
  traffic: UnitTraffic | undefined,
  now: number,
): ScalingObservation => {
  const active = status.instances.filter((i) => !i.draining)
  const ready = active.filter((i) => i.state === "running" && i.ready)
  return {
    now,
    instances: active.length,
    ready: ready.length,
    cpu: ready.flatMap((i) =>
      i.lastUsage !== undefined && i.lastUsage.intervalMs > 0 ? [i.lastUsage.cpuPercent] : [],
    ),
    inFlight: traffic === undefined ? undefined : ready.map((i) => traffic.inFlight(status.id, i.instance)),
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Look at every autoscaled unit each interval until the scope closes. */
export const runAutoscaler = (env: AutoscalerEnvironment): Effect.Effect<never, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scaling = yield* FiberSet.make()
    const states = new Map<string, ScalingState>()
    const busy = new Set<string>()
    const fail = (unit: string, detail: string) =>
      env.publish({ type: "supervisor", action: "scale-failed", unit, detail })

    const look = (spec: UnitSpec, policy: ScalingPolicy, now: number) =>
      Effect.gen(function* () {
        const id = spec.id
        const status = env.status(id)
        if (status === undefined) return
        const observed = observe(status, env.traffic(), now)
        const { verdict, state } = decideScale(id, policy, observed, states.get(id))
        states.set(id, state)
        if (verdict.kind === "limited")
          env.publish({ type: "supervisor", action: "scale-limited", unit: id, detail: verdict.reason })
        if (verdict.kind !== "scale") return
        busy.add(id)
        const scale = env.scale(id, verdict.to, verdict.reason).pipe(
          Effect.onExit((exit) =>
            Effect.sync(() => {
              busy.delete(id)
              if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause))
                fail(id, `${verdict.reason} failed: ${describe(Cause.squash(exit.cause))}`)
            }),
          ),
        )
        yield* FiberSet.run(scaling, scale)
      })

    for (;;) {
      yield* Effect.sleep(env.intervalMs)
      const now = yield* Clock.currentTimeMillis
      const seen = new Set<string>()
      for (const spec of env.specs()) {
        const policy = policyOf(spec)
        if (policy === undefined) continue
        seen.add(spec.id)
        // One scale per unit at a time; the count it leaves is observed afterwards.
        if (busy.has(spec.id)) continue
        // A gateway whose counter throws must not stop autoscaling of every other unit.
        const looked = yield* Effect.exit(look(spec, policy, now))
        if (Exit.isFailure(looked)) fail(spec.id, `autoscaling: ${describe(Cause.squash(looked.cause))}`)
      }
      // Units removed from the config, or no longer autoscaled, start afresh if they come back.
      for (const id of states.keys()) if (!seen.has(id)) states.delete(id)
    }
  })

/** Fork the autoscaler into `scope` (closing it stops the autoscaler and any scale it runs). */
export const startAutoscaler = (
  env: AutoscalerEnvironment,
  scope: Scope.Scope,
): Effect.Effect<Fiber.Fiber<never>> => Effect.forkIn(Effect.scoped(runAutoscaler(env)), scope)
