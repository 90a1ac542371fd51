// A unit as the supervisor keeps it: its spec and one runner per instance. supervisor.ts owns the
// units; the modules that act on them for it (scaling, commands, dependencies, shutdown) share this.
import type { UnitSpec } from "../unitSpec.ts"
import type { InstanceRunner } from "./instanceRunner.ts"

export interface Unit {
  /** Changed in place by reconfigure (a replace makes a new Unit). */
  spec: UnitSpec
  /** Replaced (not mutated) when the unit scales; the Unit itself stays the same object. */
  runners: ReadonlyArray<InstanceRunner>
  /** Restarts of the instances a scale down removed: the unit's count does not drop with them. */
  retiredRestarts?: number
}

/** An instance that serves: running and ready. */
export const isReady = (r: InstanceRunner): boolean => r.state === "running" && r.ready
