// The one interface every runtime implements (process, container, external; the agent runtimes
// sandbox/process/worker/inline arrive as more drivers). A driver turns a UnitSpec instance into
// something running; the instance's lifetime is an Effect Scope, so closing it can never leak.
import { Data, type Effect, type Scope } from "effect"
import type { ExitInfo } from "../../actors/lifecycleTypes.ts"
import type { CapabilityProvider } from "../capabilities/capability.ts"
import type { Containment } from "../containment/index.ts"
import type { AgentLogLevel } from "../logs/agentLogEntry.ts"
import type { StopSpec, UnitSpec } from "../unitSpec.ts"

export type { ExitInfo }

export class DriverError extends Data.TaggedError("DriverError")<{
  readonly unit: string
  readonly message: string
  /**
   * "setup": the unit's own code ran and failed before it was ready (an agent's setup threw), a
   * crash of its own; absent: nothing ran (a spawn failure).
   */
  readonly failure?: "setup"
}> {}

export interface DriverContext {
  readonly spec: UnitSpec
  readonly instance: number
  /** Port assigned to this instance (fixed by config or allocated by SAM). */
  readonly port: number | undefined
  /** Base URLs of the unit's ready dependencies by id (injected as SAM_<ID>_URL). */
  readonly dependencyUrls: Readonly<Record<string, string>>
  /** Variables SAM gives every unit process (SAM_GATEWAY_TOKEN), besides SAM_<ID>_URL. */
  readonly variables?: Readonly<Record<string, string>>
  /** Where processes are contained: a driver that spawns puts each incarnation in a cell of it
   * (absent: process groups only). */
  readonly containment?: Containment
  /** Longest output line kept whole; longer ones are truncated with a marker. */
  readonly maxLineBytes: number
  /** One line of the instance's output. */
  readonly log: (stream: "stdout" | "stderr", line: string) => void
  /**
   * An agent's `ctx.logger` entry: kept at the unit's log level only, written as a line of its
   * stream with its level (logs/agentLogEntry.ts).
   */
  readonly logEntry: (level: AgentLogLevel, text: string) => void
  /** Publish `<kind>.<type>` on SAM's bus for this instance (agent warnings, permission denials). */
  readonly event?: (type: `${string}.${string}`, fields: Readonly<Record<string, unknown>>) => void
}

export interface InstanceHandle {
  readonly pid: number | undefined
  readonly port: number | undefined
  /** Base URL health checks and the gateway use, when the instance speaks HTTP. */
  readonly url: string | undefined
  /**
   * Completes when the instance ends, by itself or because it was stopped. Absent: it never ends
   * by itself, only by `stop` (an inline agent), and nothing waits for it.
   */
  readonly exited?: Effect.Effect<ExitInfo>
  /** Stop with `signal`, SIGKILL after `graceMs`; completes when nothing of it is left. */
  readonly stop: (stop: StopSpec) => Effect.Effect<ExitInfo>
  readonly suspend: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  /** Resident memory and CPU time of everything the instance runs (its whole process tree). */
  readonly usage?: () => { readonly rssBytes: number; readonly cpuSeconds: number }
  /** Capabilities this instance serves; registered with the router while it is ready. */
  readonly capabilities?: ReadonlyArray<readonly [string, CapabilityProvider]>
  /** Hook for drivers with a side channel (agent IPC); facts it learns go to `emit`. */
  readonly facts?: (emit: (fact: DriverFact) => void) => () => void
}

/** Facts a driver can report besides exit: used by agent runtimes (heartbeats, memory). */
export type DriverFact =
  | { readonly type: "HEARTBEAT_MISSED"; readonly detail: string }
  | {
      readonly type: "RESOURCE_EXCEEDED"
      readonly resource: string
      readonly detail: string
      /** The reading over the limit (memory counted against max_memory_mb), in bytes. */
      readonly bytes?: number
      /** It had ended already (a V8 heap limit's abort): SAM's stop finds nothing to stop. */
      readonly exited?: boolean
    }
  /** Readiness learned over the side channel (late heartbeats, the agent's health() hook). */
  | { readonly type: "PROBE_FAILED"; readonly detail: string }
  | { readonly type: "PROBE_PASSED"; readonly detail: string }

/** Registered in `sam.drivers` under the runtime name; agent runtimes under `agent:<runtime>`. */
export interface Driver {
  readonly name: string
  readonly start: (ctx: DriverContext) => Effect.Effect<InstanceHandle, DriverError, Scope.Scope>
}
