// The autoscaler's verdict for one unit at one moment, as Kubernetes' HPA computes it: desired =
// ceil(current × metric / target), acted on only outside a 10% tolerance band, after the load has
// stayed there for scale_up/scale_down_seconds and not within the cooldown. Pure; autoscaler.ts
// observes the units, feeds this and applies the verdict through Sam's scale.
import type { AutoscaleSpec } from "../unitSpec.ts"

/** HPA's default: a ratio within 10% of 1 changes nothing. */
export const TOLERANCE = 0.1

export interface ScalingPolicy extends AutoscaleSpec {
  /** scaling.min_instances: the autoscaler keeps at least max(min, 1). */
  readonly min: number
  /** scaling.max_instances. */
  readonly max: number
}

/** What the autoscaler sees of a unit now. */
export interface ScalingObservation {
  readonly now: number
  /** Instances the unit runs (those being scaled away not counted). */
  readonly instances: number
  /** How many of them are running and ready. */
  readonly ready: number
  /** CPU % of one core of each instance that is ready and measured over an interval. */
  readonly cpu: ReadonlyArray<number>
  /** Requests in flight to each ready instance; undefined when nothing counts them (no gateway). */
  readonly inFlight: ReadonlyArray<number> | undefined
}

/** A stretch of observations all past the band on one side, and the count they agree on. */
export interface ScalingWindow {
  readonly since: number
  /** The counts asked for over the last scale_up/scale_down_seconds (a rolling window, HPA's). */
  readonly asked: ReadonlyArray<{ readonly at: number; readonly to: number }>
  /** Scaling out: the lowest count asked for in the rolling window; in: the highest. */
  readonly to: number
}

/**
 * `window` with `desired` asked for at `now`, keeping what was asked within the last `spanMs`:
 * a count asked for early in a long stretch ages out, so a load that eases off slowly still
 * scales in (a running maximum since the stretch began would hold it for as long as it lasted).
 */
const roll = (
  window: ScalingWindow | undefined,
  now: number,
  spanMs: number,
  desired: number,
  pick: (...counts: number[]) => number,
): ScalingWindow => {
  const asked = [...(window?.asked ?? []).filter((a) => a.at >= now - spanMs), { at: now, to: desired }]
  return { since: window?.since ?? now, asked, to: pick(...asked.map((a) => a.to)) }
}

export interface ScalingState {
  /** The count last observed. */
  readonly instances: number
  /** When that count was first observed, or the last verdict to scale: the cooldown runs from here. */
  readonly changedAt: number
  readonly up: ScalingWindow | undefined
  readonly down: ScalingWindow | undefined
  /** Whether "already at max_instances" was said for the current window (it is said once). */
  readonly limited: boolean
}

export type ScalingVerdict =
  | { readonly kind: "hold" }
  | { readonly kind: "scale"; readonly to: number; readonly reason: string }
  /** The load asks for more than max_instances allows. */
  | { readonly kind: "limited"; readonly reason: string }

interface Metric {
  readonly name: "cpu" | "in flight"
  /** The measured instances' average. */
  readonly average: number
  readonly target: number
  /** metric / target, corrected for instances not measured yet. */
  readonly ratio: number
}

/**
 * metric/target over the measured instances. Instances not measured yet (starting, unready,
 * first sample) count as idle when the ratio says out, and as on target when it says in, and a
 * correction that flips the direction means "no change" (HPA's rule): a half-measured unit never
 * over-reacts.
 */
const metricOf = (
  name: Metric["name"],
  values: ReadonlyArray<number> | undefined,
  target: number | undefined,
  instances: number,
): Metric | undefined => {
  if (target === undefined || values === undefined || values.length === 0) return undefined
  const sum = values.reduce((a, b) => a + b, 0)
  const average = sum / values.length
  const raw = average / target
  const missing = Math.max(0, instances - values.length)
  const ratio =
    missing === 0
      ? raw
      : raw > 1
        ? Math.max(1, sum / (instances * target))
        : Math.min(1, (sum + missing * target) / (instances * target))
  return { name, average, target, ratio }
}

const plural = (n: number) => (n === 1 ? "instance" : "instances")
const round1 = (n: number) => Math.round(n * 10) / 10
const secondsOf = (ms: number) => `${round1(ms / 1000)}s`

const describeMetric = (m: Metric, relation: "above" | "below"): string => {
  const value =
    m.name === "cpu"
      ? { now: `cpu ${Math.round(m.average)}%`, target: `${round1(m.target)}%` }
      : { now: `${round1(m.average)} in flight per instance`, target: `${round1(m.target)}` }
  return relation === "above" ? `${value.now} > ${value.target}` : `${value.now} well below ${value.target}`
}

const fresh = (instances: number, now: number): ScalingState => ({
  instances,
  changedAt: now,
  up: undefined,
  down: undefined,
  limited: false,
})

const hold = (state: ScalingState) => ({ verdict: { kind: "hold" } as ScalingVerdict, state })

/**
 * The verdict for unit `id` given its policy, what is observed now and the state left by the
 * previous call (undefined the first time: that counts as a change of the count, so the cooldown
 * also follows SAM's start).
 *
 * @example
 * ```ts
 * const observed = { now, instances: 1, ready: 1, cpu: [183], inFlight: undefined }
 * const { verdict, state } = decideScale("api", policy, observed, previous)
 * if (verdict.kind === "scale") await sam.scale("api", verdict.to)
 * ```
 */
export const decideScale = (
  id: string,
  policy: ScalingPolicy,
  observed: ScalingObservation,
  previous: ScalingState | undefined,
): { readonly verdict: ScalingVerdict; readonly state: ScalingState } => {
  const { now, instances } = observed
  // Whoever changed the count (this autoscaler, `sam scale`, a reload), windows start over.
  const state = previous === undefined || previous.instances !== instances ? fresh(instances, now) : previous
  // Scaled to 0 (by hand, or idle for start-on-demand), stopped, or not up yet: nothing to
  // measure, and not the autoscaler's to start.
  if (instances === 0 || observed.ready === 0) return hold(fresh(instances, state.changedAt))
  const lowest = Math.max(policy.min, 1)
  const highest = Math.max(policy.max, lowest)
  const cooling = now - state.changedAt < policy.cooldownMs
  const scaleTo = (to: number, reason: string) => ({
    verdict: {
      kind: "scale",
      to,
      reason: `${id}: ${reason}: ${instances} → ${to} instances`,
    } as ScalingVerdict,
    state: fresh(instances, now),
  })
  if (instances < lowest || instances > highest) {
    if (cooling) return hold(state)
    return instances < lowest
      ? scaleTo(lowest, `${instances} ${plural(instances)} below min_instances ${policy.min}`)
      : scaleTo(highest, `${instances} ${plural(instances)} above max_instances ${policy.max}`)
  }
  const metrics = [
    metricOf("cpu", observed.cpu, policy.cpuPercent, instances),
    metricOf("in flight", observed.inFlight, policy.inFlight, instances),
  ].filter((m): m is Metric => m !== undefined)
  if (metrics.length === 0) return hold({ ...state, up: undefined, down: undefined, limited: false })
  // Out when any metric asks for it, in only when all do: the largest ratio decides (HPA).
  const driving = metrics.reduce((a, b) => (b.ratio > a.ratio ? b : a))
  const desired = Math.min(highest, Math.max(lowest, Math.ceil(instances * driving.ratio - 1e-9)))
  if (driving.ratio > 1 + TOLERANCE) {
    const up = roll(state.up, now, policy.upMs, desired, Math.min)
    const next = { ...state, up, down: undefined }
    const held = now - up.since
    if (held < policy.upMs || cooling) return hold(next)
    const why = `${describeMetric(driving, "above")} for ${secondsOf(held)}`
    if (up.to > instances) return scaleTo(up.to, why)
    if (next.limited) return hold(next)
    return {
      verdict: { kind: "limited", reason: `${id}: ${why}, but it already runs max_instances (${highest})` },
      state: { ...next, limited: true },
    }
  }
  if (driving.ratio < 1 - TOLERANCE) {
    const down = roll(state.down, now, policy.downMs, desired, Math.max)
    const next = { ...state, up: undefined, down, limited: false }
    const held = now - down.since
    if (held < policy.downMs || cooling || down.to >= instances) return hold(next)
    return scaleTo(down.to, `${describeMetric(driving, "below")} for ${secondsOf(held)}`)
  }
  return hold({ ...state, up: undefined, down: undefined, limited: false })
}
