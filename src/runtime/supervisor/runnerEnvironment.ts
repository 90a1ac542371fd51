// What every instance runner is given by the supervisor: where its fibers run, the drivers and
// probes, the capability router, and where its facts go (the bus, logs, metrics, transitions).
import type { Effect } from "effect"
import type { CapabilityRouter } from "../capabilities/capabilityRouter.ts"
import type { Containment } from "../containment/index.ts"
import type { Driver } from "../drivers/driver.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { HealthRecord, ProbeRegistry } from "../health/probe.ts"
import type { OutputLine } from "../output/recentLines.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { ForkIn } from "./lifecycleWork.ts"

export type TransitionListener = (runner: InstanceRunner, from: string, to: string) => void

export interface RunnerEnvironment {
  /** Forks the work of a state into SAM's fiber set. */
  readonly fork: ForkIn
  readonly drivers: ReadonlyMap<string, Driver>
  readonly probes: ProbeRegistry
  readonly capabilities?: CapabilityRouter
  /** Cells for every process an instance starts (absent: process groups only). */
  readonly containment?: Containment
  /** Longest line of output kept whole (monitoring.logs.max_line_kb). */
  readonly maxLineBytes: number
  /** Recent output kept per instance (count and bytes). */
  readonly recentLines: { readonly lines: number; readonly bytes: number }
  /** The instance's port, stable across its restarts and reloads (the supervisor's table). */
  /** Fails (a start failure) when runtime.port_range has no free port left. */
  readonly portFor: (runner: InstanceRunner) => Effect.Effect<number | undefined, Error>
  /** Base URL of a unit's first ready instance (else of its instance 0, started), for SAM_<ID>_URL. */
  readonly urlOf: (id: string) => string | undefined
  /** Variables every process of `spec` gets from SAM (its SAM_GATEWAY_TOKEN). */
  readonly variablesFor?: (spec: UnitSpec) => Readonly<Record<string, string>>
  readonly publish: (event: SamEventBody) => void
  /** The log level in effect (runtime.log_level, read per entry: a reload changes it): agents' loggers keep what is at or above it. */
  readonly logLevel?: () => string
  /** Every line of output, for the log channel. */
  readonly output?: (runner: InstanceRunner, line: OutputLine) => void
  /** How often a running instance's whole tree is measured (CPU, memory); default 2 s. */
  readonly usageIntervalMs?: number
  /** Every probe result (not only changes, which go to the bus): the metrics' histogram. */
  readonly onProbe?: (runner: InstanceRunner, record: HealthRecord) => void
  /**
   * Resolves once no request is in flight to the instance (the gateway's drain); awaited, bounded
   * by the stop's grace period, before an operator's stop or restart (a rollout's too) signals it.
   * The instance is out of the gateway's routing table by then: it is `stopping`.
   */
  readonly drain?: (unit: string, instance: number) => Effect.Effect<void>
  /** Every transition of every instance, before the runner's own listeners (the supervisor's). */
  readonly onTransition?: TransitionListener
}
