// A supervision group: OTP's supervisor node between the root and the units. It has a strategy
// (which siblings a failure takes down with it) and a restart intensity of its own.
import type { InstanceRunner } from "./instanceRunner.ts"
import { RestartWindow } from "./restartWindow.ts"

export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one"

export interface GroupSpec {
  readonly name: string
  readonly strategy: Strategy
  /** Restarts of all members within windowMs before the group fails; undefined: no group limit. */
  readonly maxRestarts: number | undefined
  readonly windowMs: number
}

export interface Group {
  readonly spec: GroupSpec
  readonly window: RestartWindow
  readonly members: InstanceRunner[]
  failed: boolean
}

/** Groups nobody configured ("services", "agents", or a name only a unit mentions). */
export const implicitGroupIntensity = { maxRestarts: 30, windowMs: 60_000 }

export const makeGroup = (spec: GroupSpec, members: InstanceRunner[] = [], failed = false): Group => ({
  spec,
  window: new RestartWindow(spec.maxRestarts ?? Number.POSITIVE_INFINITY, spec.windowMs),
  members,
  failed,
})

/**
 * The siblings `failed` takes down under the group's strategy: none (one_for_one), all others
 * (one_for_all) or those started after it (rest_for_one). OTP: temporary children are never
 * restarted because of a sibling; stopped or crashed ones stay as they are.
 */
export const siblingsToRestart = (group: Group, failed: InstanceRunner): ReadonlyArray<InstanceRunner> => {
  const { strategy } = group.spec
  if (strategy === "one_for_one") return []
  const siblings =
    strategy === "one_for_all"
      ? group.members.filter((m) => m !== failed)
      : group.members.slice(group.members.indexOf(failed) + 1)
  return siblings.filter(
    (s) =>
      s.spec.restart.type !== "temporary" &&
      s.state !== "stopped" &&
      s.state !== "crashed" &&
      s.state !== "stopping",
  )
}
