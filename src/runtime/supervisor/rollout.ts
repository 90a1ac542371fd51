// A config change of a unit running several instances, rolled out as a Kubernetes Deployment
// does (maxUnavailable 1, maxSurge 0): one instance restarts with the new config at a time, the
// next once it is ready again, so the others keep serving meanwhile. An instance that does not
// come up ready with the new config halts the rollout: the ones not reached keep their old
// process (a broken config takes down one instance, not all) and take the new config at their
// next start. A change rolls when `rolls` says so and its ports stay (supervisor.ts checks those).
import { Duration, Effect, Option } from "effect"
import { sameValue } from "../configDiff.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { SupervisorMemory } from "./contracts.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { isDown, isReady, type Unit } from "./unit.ts"

export interface RolloutContext {
  readonly publish: (event: SamEventBody) => void
  /** A restart for a new config starts with a fresh restart window. */
  readonly resetWindow: (runner: InstanceRunner) => void
  /** Whether the rollout still applies (SAM not stopping, the unit not replaced or removed). */
  readonly current: () => boolean
  /** How long one instance may take to stop and be ready again before the rollout halts. */
  readonly turnMs: number
  /** Why the rollout halted (shown with the unit's status), or undefined as a rollout begins. */
  readonly halted: (detail: string | undefined) => void
}

/** A unit's rollout runs among the starts, under its own key: a scale's start is not held up by it. */
export const rolloutKey = (id: string) => `rollout:${id}`

/** Whether `runners` can roll: several, one of them serving (else nothing is kept up by rolling). */
const canRoll = (runners: ReadonlyArray<InstanceRunner>): boolean =>
  runners.length > 1 && runners.some(isReady)

/**
 * Whether a change of `unit` to `spec` rolls instead of stopping every instance: several live
 * instances, the same dependencies and kind, and the count it runs stays (an operator's kept
 * scale gives way to the config's count, which needs the full replace).
 */
export const rolls = (unit: Unit, spec: UnitSpec, memory: SupervisorMemory | undefined): boolean => {
  const keepsCount = unit.runners.length === spec.instances || memory?.scaledOf(unit.spec) === undefined
  return (
    keepsCount &&
    unit.spec.kind === spec.kind &&
    sameValue(unit.spec.dependsOn, spec.dependsOn) &&
    canRoll(unit.runners)
  )
}

/** Where an instance's turn ends: ready again, or down or waiting to retry (the new config fails). */
const turnOver = (r: InstanceRunner): boolean => isReady(r) || isDown(r) || r.state === "backoff"

/** Why an instance's turn did not end ready, for the halt event. */
const whyNotReady = (r: InstanceRunner, timedOut: boolean, turnMs: number): string => {
  if (timedOut) return `not ready within ${Math.round(turnMs / 1000)}s`
  const reason = r.context.reason
  return reason ? `${r.state}: ${reason}` : r.state
}

/**
 * Roll `runners` onto `spec`: every runner takes the new spec at once (its next start, whenever it
 * comes, uses it); those not serving restart first (a crash loop the change fixes ends now), then
 * the ready ones, one at a time. A stopped instance stays stopped, one stopping is left to finish.
 */
export const rollOut = (
  spec: UnitSpec,
  runners: ReadonlyArray<InstanceRunner>,
  ctx: RolloutContext,
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const publish = (action: string, detail: string) =>
      ctx.publish({ type: "supervisor", action, unit: spec.id, detail })
    for (const r of runners) r.spec = spec
    ctx.halted(undefined)
    const turns = [...runners.filter((r) => !isReady(r)), ...runners.filter(isReady)].filter(
      (r) => r.state !== "stopped" && r.state !== "stopping",
    )
    publish("rollout", `${spec.id}: its config changed: restarting ${turns.length} instances one at a time`)
    const reason = "its config changed: restarting with the new one"
    for (const [turn, r] of turns.entries()) {
      if (!ctx.current()) return
      // Stopped meanwhile (an operator's stop, a clean exit): its next start takes the new config.
      if (r.state === "stopped" || r.state === "stopping") continue
      ctx.resetWindow(r)
      // A config change is no restart of the instance's own (Kubernetes counts none for a
      // rollout): its count stays as it was.
      r.uncountedRestart = true
      r.send({ type: "RESTART", reason })
      // Leave the old process behind first: a ready one is still ready as its stop begins.
      yield* r.until((x) => !isReady(x))
      const ended = yield* r.until(turnOver).pipe(Effect.timeoutOption(Duration.millis(ctx.turnMs)))
      if (isReady(r)) continue
      if (!ctx.current()) return
      const left = turns.slice(turn + 1).map((x) => x.key)
      const detail =
        `rollout halted: ${r.key} did not come up with the new config (${whyNotReady(r, Option.isNone(ended), ctx.turnMs)})` +
        (left.length > 0
          ? `; ${left.join(", ")} ${left.length === 1 ? "keeps its" : "keep their"} old process until ${left.length === 1 ? "it starts" : "they start"} again`
          : "")
      ctx.halted(detail)
      publish("rollout-halted", `${spec.id}: ${detail}`)
      return
    }
    publish("rolled-out", `${spec.id}: ${turns.length} instances run the new config`)
  })
