// A unit as the supervisor keeps it: its spec and one runner per instance. supervisor.ts owns the
// units; the modules that act on them for it (scaling, commands, dependencies, shutdown) share
// this and the two states of an instance they ask about most: down, and ready.
import type { UnitSpec } from "../unitSpec.ts"
import type { KeptScale } from "./contracts.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { WatchStreak } from "./watchedFiles.ts"

export interface Unit {
  /** Changed in place by reconfigure (a replace makes a new Unit). */
  spec: UnitSpec
  /** Replaced (not mutated) when the unit scales; the Unit itself stays the same object. */
  runners: ReadonlyArray<InstanceRunner>
  /** Restarts of the instances a scale down removed: the unit's count does not drop with them. */
  retiredRestarts?: number
  /** Why its last config change stopped rolling (rollout.ts), until the next one or a restart. */
  rolloutHalted?: string | undefined
  /** Its changes in a row that came right after a start the watch caused (watchedFiles.ts). */
  watchStreak?: WatchStreak | undefined
  /** Why its watching is paused (watchedFiles.ts: its own writes), until resumed. */
  watchPaused?: string | undefined
  /**
   * An operator's scale kept across SAM restarts (the runtime store's record, read when the unit
   * or its config arrives and written with each scale), for its status to say so.
   */
  keptScale?: KeptScale | undefined
  /** A job done, then scaled to 0: still done for its dependents, until scaled up again. */
  doneThenScaledAway?: boolean | undefined
}

/** An instance that is down: stopped or crashed. */
export const isDown = (r: InstanceRunner): boolean => r.state === "stopped" || r.state === "crashed"

/** An instance that serves: running and ready. */
export const isReady = (r: InstanceRunner): boolean => r.state === "running" && r.ready

/**
 * A job done: every instance ended by itself with exit code 0 (not by a stop, which may follow an
 * earlier clean exit, nor by a kill for a limit, whose exit SAM's stop caused) and is still down:
 * a job started again is not done until it exits again.
 * The one rule for dependents' `completed`, the start report and the API.
 */
export const completed = (runners: ReadonlyArray<InstanceRunner>): boolean =>
  runners.length > 0 &&
  runners.every(
    (r) =>
      r.state === "stopped" &&
      r.endedItself &&
      r.context.failure === "exit" &&
      r.context.lastExit?.code === 0,
  )

/** A job done, for its dependents' `completed`: as `completed`, or done and then scaled to 0. */
export const jobDone = (unit: Unit | undefined): boolean =>
  unit !== undefined &&
  (completed(unit.runners) || (unit.runners.length === 0 && unit.doneThenScaledAway === true))
