// What the supervisor promises and asks of others: its tagged errors, what it is made with
// (SupervisorOptions), what it persists between SAM runs (SupervisorMemory, implemented by the
// runtime store) and the options of its commands.
import { Data, type Effect } from "effect"
import type { StopOptions } from "../../actors/lifecycle.machine.ts"
import type { CapabilityRouter } from "../capabilities/capabilityRouter.ts"
import type { Containment } from "../containment/index.ts"
import type { Driver } from "../drivers/driver.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { PortRange } from "../freePort.ts"
import type { ProbeRegistry } from "../health/probe.ts"
import type { OutputLine } from "../output/recentLines.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { InstanceWindow } from "./decide.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { RunnerEnvironment } from "./runnerEnvironment.ts"

/** What a supervisor is made with (Supervisor.make): its drivers, probes and SAM's services. */
export interface SupervisorOptions {
  readonly drivers: ReadonlyMap<string, Driver>
  readonly probes: ProbeRegistry
  readonly capabilities?: CapabilityRouter
  readonly containment?: Containment
  readonly publish: (event: SamEventBody) => void
  readonly maxLineBytes?: number
  readonly recentLines?: { readonly lines: number; readonly bytes: number }
  readonly output?: (runner: InstanceRunner, line: OutputLine) => void
  readonly memory?: SupervisorMemory
  /** Where ports for services without a fixed one come from (runtime.port_range; default: any). */
  readonly portRange?: PortRange
  /** How often each running instance's tree is measured (default 2 s). */
  readonly usageIntervalMs?: number
  /** Variables every process of a unit gets from SAM (SAM_GATEWAY_TOKEN). */
  readonly variablesFor?: (spec: UnitSpec) => Readonly<Record<string, string>>
  /** Every probe result of every instance (RunnerEnvironment.onProbe). */
  readonly onProbe?: RunnerEnvironment["onProbe"]
}

export class UnitNotFound extends Data.TaggedError("UnitNotFound")<{
  readonly unit: string
  readonly message: string
}> {}

/** Every command is refused once SAM has begun to stop. */
export class SamStopping extends Data.TaggedError("SamStopping")<{ readonly message: string }> {}

export interface StartReport {
  readonly ready: ReadonlyArray<string>
  readonly notReady: ReadonlyArray<{ readonly id: string; readonly state: string; readonly reason: string }>
  /** Jobs done: every instance has exited 0 (a dependency's `service_completed_successfully`). */
  readonly completed?: ReadonlyArray<string>
}

/** An operator's scale that outlives SAM restarts (until scaled again or the unit's config changes). */
export interface KeptScale {
  readonly instances: number
  readonly by: string
  readonly at: string
}

/** What the supervisor persists between SAM runs (the runtime store implements it). */
export interface SupervisorMemory {
  readonly portOf: (unit: string, instance: number) => number | undefined
  readonly setPort: (unit: string, instance: number, port: number) => void
  readonly clearPorts: (unit: string) => void
  readonly windowOf: (key: string) => InstanceWindow | undefined
  readonly setWindow: (key: string, window: InstanceWindow) => void
  /** The operator's last start or stop of this version of the unit's config, if any. */
  readonly desiredOf: (spec: UnitSpec) => DesiredIntent | undefined
  readonly setDesired: (spec: UnitSpec, state: "running" | "stopped", by: string) => void
  /** The count this version of the unit's config was last scaled to, by whom and when, if kept. */
  readonly scaledOf: (spec: UnitSpec) => KeptScale | undefined
  /** Record a scale; `undefined` forgets it (scaled back to the config's count). */
  readonly setScaled: (spec: UnitSpec, instances: number | undefined, by: string) => void
  /** The unit left the config: forget its ports, desired state and scale. */
  readonly forget: (unit: string) => void
}

export interface DesiredIntent {
  readonly state: "running" | "stopped"
  readonly by: string
  readonly at: string
}

/** Who gave a command, for the desired state ("operator:alice", "api", "library"). */
export interface CommandOptions extends StopOptions {
  readonly reason?: string
  readonly by?: string
}

/** `sam scale` asked for a count the unit may not have. */
export class ScaleRefused extends Data.TaggedError("ScaleRefused")<{
  readonly unit: string
  readonly instances: number
  /** The counts the unit may have: 0 to scaling.max_instances. */
  readonly max: number
  readonly message: string
}> {}

export interface ScaleOptions {
  /**
   * Before an instance that goes away is stopped: resolves once no request is in flight to it
   * (the gateway's drain). Bounded by the unit's stop grace period.
   */
  readonly drain?: (unit: string, instance: number) => Effect.Effect<void>
  readonly by?: string
  /** Why (the autoscaler's verdict), for the `scale` event; default "scaled from N to M instances". */
  readonly reason?: string
  /**
   * Keep the count across SAM restarts, as an operator's stop is (default true). The autoscaler
   * and the gateway's start-on-demand pass false: theirs are decisions of the moment.
   */
  readonly remember?: boolean
  /**
   * Start the instances a scale up adds (default true). A config reload's scale of a unit that
   * is not running (an operator stopped it, SAM has not started) only adds them, stopped.
   */
  readonly start?: boolean
}
