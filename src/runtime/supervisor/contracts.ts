// What the supervisor promises and asks of others: its tagged errors, what it is made with
// (SupervisorOptions), what it persists between SAM runs (SupervisorMemory, implemented by the
// runtime store) and the options of its commands.
import { Data, type Effect } from "effect"
import type { StopOptions } from "../../actors/lifecycleTypes.ts"
import type { CapabilityRouter } from "../capabilities/capabilityRouter.ts"
import type { Containment } from "../containment/index.ts"
import type { Driver } from "../drivers/driver.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { PortRange } from "../freePort.ts"
import type { HealthRecord, ProbeRegistry } from "../health/probe.ts"
import type { OutputLine } from "../output/recentLines.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { InstanceWindow } from "./decide.ts"

/** What a supervisor is made with (Supervisor.make): its drivers, probes and SAM's services. */
/** Whose output line or probe result it is: an instance's unit and index (an InstanceRunner). */
export interface OutputSource {
  readonly spec: UnitSpec
  readonly index: number
}

export interface SupervisorOptions {
  readonly drivers: ReadonlyMap<string, Driver>
  readonly probes: ProbeRegistry
  readonly capabilities?: CapabilityRouter | undefined
  readonly containment?: Containment | undefined
  readonly publish: (event: SamEventBody) => void
  readonly maxLineBytes?: number | undefined
  readonly recentLines?: { readonly lines: number; readonly bytes: number } | undefined
  /** A line of an instance's output (its runner: an interface, so that SAM's public types reach no xstate). */
  readonly output?: (instance: OutputSource, line: OutputLine) => void
  /** runtime.log_level as it is now (RunnerEnvironment.logLevel). */
  readonly logLevel?: (() => string) | undefined
  readonly memory?: SupervisorMemory | undefined
  /** Where ports for services without a fixed one come from (runtime.port_range; default: any). */
  readonly portRange?: PortRange | undefined
  /** How often each running instance's tree is measured (default 2 s). */
  readonly usageIntervalMs?: number | undefined
  /** Variables every process of a unit gets from SAM (SAM_GATEWAY_TOKEN). */
  readonly variablesFor?: (spec: UnitSpec) => Readonly<Record<string, string>>
  /** Every probe result of every instance (RunnerEnvironment.onProbe). */
  readonly onProbe?: (instance: OutputSource, record: HealthRecord) => void
  /** Awaited before a stop or restart signals an instance (RunnerEnvironment.drain). */
  readonly drain?: (unit: string, instance: number) => Effect.Effect<void>
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
  readonly completed?: ReadonlyArray<string> | undefined
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
  /** Every port kept for any instance (reserved when SAM starts: see freePort.ts reservePorts). */
  readonly keptPorts?: () => ReadonlyArray<number>
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
  readonly reason?: string | undefined
  readonly by?: string | undefined
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
  readonly by?: string | undefined
  /** Why (the autoscaler's verdict), for the `scale` event; default "scaled from N to M instances". */
  readonly reason?: string | undefined
  /**
   * Keep the count across SAM restarts, as an operator's stop is (default true). The autoscaler
   * and the gateway's start-on-demand pass false: theirs are decisions of the moment.
   */
  readonly remember?: boolean | undefined
  /**
   * Start the instances a scale up adds (default true). A config reload's scale of a unit that
   * is not running (an operator stopped it, SAM has not started) only adds them, stopped.
   */
  readonly start?: boolean | undefined
}
