// What surfaces see of a unit: its instances' statuses folded into one (the worst state wins,
// ready only when every instance is ready, restarts summed, an operator's kept stop said).
import type { LifecycleState } from "../../actors/lifecycleTypes.ts"
import { maxInstancesOf, type UnitKind, type UnitLabels, type UnitSpec } from "../unitSpec.ts"
import type { DesiredIntent, KeptScale } from "./contracts.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { InstanceStatus } from "./instanceStatus.ts"
import { completed, type Unit } from "./unit.ts"

export interface UnitStatus {
  readonly id: string
  readonly kind: UnitKind
  readonly runtime: string
  readonly group: string
  readonly state: LifecycleState
  readonly ready: boolean
  readonly restarts: number
  readonly pid: number | undefined
  readonly uptimeMs: number
  readonly dependsOn: ReadonlyArray<string>
  /** The config's descriptive fields (type, version, dependencies), shown only. */
  readonly labels: UnitLabels
  /** Most instances it may run (scaling.max_instances). */
  readonly maxInstances: number
  readonly instances: ReadonlyArray<InstanceStatus>
  /** The earliest next attempt of an instance in backoff or retrying while crashed (epoch ms). */
  readonly nextAttemptAt: number | undefined
  /** A job done: every instance ended by itself with exit code 0 (unit.ts `completed`). */
  readonly completed: boolean
  /** Why its last config change stopped rolling out, until the next change, stop or restart. */
  readonly rolloutHalted: string | undefined
  /** Why its `watch` is paused (its own writes restarted it in a loop), until resumed. */
  readonly watchPaused: string | undefined
  /** false: it has no readiness check, so being ready says only that it started. */
  readonly readinessChecked: boolean
  /** An operator's scale away from the config's count, kept across SAM restarts. */
  readonly scaled: string | undefined
}

/** Worst first: the state a multi-instance unit reports is the worst of its instances. */
const severity: ReadonlyArray<LifecycleState> = [
  "crashed",
  "error",
  "backoff",
  "stopping",
  "starting",
  "suspended",
  "running",
  "stopped",
]

export const aggregateStatus = (
  spec: UnitSpec,
  runners: ReadonlyArray<InstanceRunner>,
  now: number,
): UnitStatus => {
  const instances = runners.map((r) => r.status(now))
  const attempts = instances.flatMap((i) => (i.nextAttemptAt === undefined ? [] : [i.nextAttemptAt]))
  const state = severity.find((s) => instances.some((i) => i.state === s)) ?? "stopped"
  return {
    id: spec.id,
    kind: spec.kind,
    runtime: spec.runtime,
    group: spec.group,
    state,
    ready: instances.length > 0 && instances.every((i) => i.ready),
    restarts: instances.reduce((n, i) => n + i.restarts, 0),
    pid: instances[0]?.pid,
    uptimeMs: Math.max(0, ...instances.map((i) => i.uptimeMs)),
    dependsOn: spec.dependsOn,
    labels: spec.labels ?? { dependencies: [] },
    maxInstances: maxInstancesOf(spec),
    instances,
    nextAttemptAt: attempts.length === 0 ? undefined : Math.min(...attempts),
    completed: completed(runners),
    rolloutHalted: undefined,
    watchPaused: undefined,
    readinessChecked: instances.every((i) => i.readinessChecked),
    scaled: undefined,
  }
}

/** Why a unit runs another count than its config's: "scaled to 3 by operator:cli at ... (the config says 2) ...". */
const scaledReason = (spec: UnitSpec, kept: KeptScale) =>
  `scaled to ${kept.instances} by ${kept.by} at ${kept.at} (the config says ${spec.instances}), kept across SAM restarts; \`sam scale ${spec.id} ${spec.instances}\` returns to the config`

/** Why a unit an operator stopped stays stopped, as its status and the start report say. */
export const heldReason = (id: string, held: DesiredIntent) =>
  `stopped by ${held.by} at ${held.at}, kept across SAM restarts; \`sam start ${id}\` starts it`

/**
 * A unit's status as the supervisor reports it: its instances' folded, the restarts of instances
 * a scale down removed still counted, and while an operator's stop holds it, that as the reason.
 */
export const unitStatusOf = (
  unit: Unit,
  now: number,
  heldBy: (id: string) => DesiredIntent | undefined,
): UnitStatus => {
  const counted = aggregateStatus(unit.spec, unit.runners, now)
  const scaled = unit.keptScale === undefined ? undefined : scaledReason(unit.spec, unit.keptScale)
  const status =
    unit.retiredRestarts || unit.rolloutHalted || unit.watchPaused || scaled
      ? {
          ...counted,
          restarts: counted.restarts + (unit.retiredRestarts ?? 0),
          rolloutHalted: unit.rolloutHalted,
          watchPaused: unit.watchPaused,
          scaled,
        }
      : counted
  const held = status.state === "stopped" ? heldBy(unit.spec.id) : undefined
  if (!held) return status
  const reason = heldReason(unit.spec.id, held)
  return { ...status, instances: status.instances.map((i) => ({ ...i, reason })) }
}

/**
 * One line for messages: the unit's state and, for several instances, each one's
 * ("running; instances: 0 running ready, 1 starting").
 */
export const describeStatus = (status: UnitStatus): string => {
  if (status.instances.length <= 1) return status.state
  const each = status.instances.map(
    (i) => `${i.instance} ${i.state}${i.ready ? " ready" : ""}${i.draining ? " draining" : ""}`,
  )
  return `${status.state}; instances: ${each.join(", ")}`
}
