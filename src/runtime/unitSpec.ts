// The normalized, runtime-facing description of one supervised unit (agent or service).
// Config (snake_case, user-facing) is turned into UnitSpecs by fromConfig.ts; drivers and the
// supervisor only ever see this shape, so config churn stays out of the runtime.
import type { GatewaySpec } from "./gatewaySpec.ts"
import type { AgentLogLevel } from "./logs/agentLogEntry.ts"

export type UnitKind = "agent" | "service"
export type RestartType = "permanent" | "transient" | "temporary"
export type RuntimeKind = "process" | "external" | "container" | "sandbox" | "worker" | "inline"

export interface RestartSpec {
  readonly type: RestartType
  /** Most restarts of this unit allowed within windowMs before it is marked crashed. */
  readonly maxRestarts: number
  readonly windowMs: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  /** Up this long without failing and the backoff sequence starts over. */
  readonly stableMs: number
  /** Exit codes that always restart (even `temporary`). */
  readonly forceExitCodes: ReadonlyArray<number>
  /** Exit codes that never restart (even `permanent`). */
  readonly preventExitCodes: ReadonlyArray<number>
  /** Past its intensity: keep retrying every backoffMaxMs (crashed meanwhile), or stay down. */
  readonly onExhausted: "retry" | "give_up"
}

export interface StopSpec {
  readonly signal: NodeJS.Signals
  readonly graceMs: number
}

export type DependencyWait = "started" | "completed"

export type ProbeType = "http" | "tcp" | "exec" | "log" | "heartbeat" | (string & {})
export type ProbeRole = "readiness" | "liveness" | "both"

export interface ProbeSpec {
  readonly type: ProbeType
  /** Path ("/health") probed on the instance's port, or a full URL. */
  readonly endpoint?: string
  readonly port?: number
  readonly command?: string
  /** A log check's regular expression: ready once an output line of the incarnation matches. */
  readonly logLine?: string
  readonly expectedStatus?: number
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly failureThreshold: number
  readonly successThreshold: number
  readonly startPeriodMs: number
  readonly role: ProbeRole
  /** Options for probe kinds registered by plugins. */
  readonly options?: unknown
}

export interface ProcessDeployment {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd?: string
  readonly env: Readonly<Record<string, string>>
  /** Fixed port; otherwise a free port is allocated per instance. */
  readonly port?: number
  /** Inherit SAM's own environment (services yes, sandboxed agents never). */
  readonly inheritEnv: boolean
}

export interface ContainerDeployment {
  readonly engine?: string
  readonly image: string
  readonly ports: ReadonlyArray<string>
  readonly volumes: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly args: ReadonlyArray<string>
}

export interface UnitSpec {
  readonly id: string
  readonly kind: UnitKind
  readonly runtime: RuntimeKind
  /** Supervision group (default "services" / "agents"). */
  readonly group: string
  readonly dependsOn: ReadonlyArray<string>
  /**
   * What a dependency must have done before this unit starts, where it is not to be ready:
   * `started` (running, ready or not), `completed` (exited 0: a job). Default: ready.
   */
  readonly dependencyConditions?: Readonly<Record<string, DependencyWait>>
  /** Descriptive config fields SAM only shows (the API's `labels`): nothing acts on them. */
  readonly labels?: UnitLabels
  /** What a dependent does when one of its dependencies restarts. */
  readonly dependencyRestart: "restart" | "none"
  /** Instances started at first (scaling.min_instances; 0: none until scaled, e.g. on demand). */
  readonly instances: number
  /** Most instances the unit may be scaled to (scaling.max_instances); default `instances`. */
  readonly maxInstances?: number
  /** Scale between `instances` (at least 1) and `maxInstances` on load; absent: by hand only. */
  readonly autoscale?: AutoscaleSpec
  readonly restart: RestartSpec
  readonly stop: StopSpec
  readonly probes: ReadonlyArray<ProbeSpec>
  readonly process?: ProcessDeployment
  readonly container?: ContainerDeployment
  readonly externalUrl?: string
  /** Agents only: what the agent runtimes (sandbox/process/worker/inline) need. */
  readonly agent?: AgentDeployment
  /** Services: how the gateway serves /api/<id>/ (none: the defaults). */
  readonly gateway?: GatewaySpec
  /** Restart the unit when its files change (config `watch`); absent: not watched. */
  readonly watch?: WatchSpec
  /** Restart the unit on this cron schedule (config `cron_restart`, checked by the config). */
  readonly cronRestart?: string
  /**
   * Services: an instance whose whole tree is resident past this many MB when sampled is stopped
   * and answered as a `memory` failure (resources.max_memory_mb). Agents have agent.maxMemoryMb.
   */
  readonly maxMemoryMb?: number
}

/** What a unit's file watcher watches and ignores (src/runtime/watch/). */
export interface WatchSpec {
  /** Files and folders (absolute once loaded); folders are watched with everything beneath them. */
  readonly paths: ReadonlyArray<string>
  /** Glob patterns, the defaults included: a name anywhere without "/", a path from the watched folder with it. */
  readonly ignore: ReadonlyArray<string>
  /** Absolute folders whose changes never count (SAM's state dir, an agent's data dir). */
  readonly ignoreDirs: ReadonlyArray<string>
  /** Quiet time after the last change before the unit restarts. */
  readonly debounceMs: number
  /** Changed paths are named relative to this folder (the config file's) when they lie beneath it. */
  readonly relativeTo?: string
}

/** A unit's `type` (services), `version` and `dependencies` (library packages), as configured. */
export interface UnitLabels {
  readonly type?: string
  readonly version?: string
  readonly dependencies: ReadonlyArray<string>
}

/** What the autoscaler aims for (src/runtime/autoscaling/): at least one target is set. */
export interface AutoscaleSpec {
  /** Average CPU per instance, in percent of one core (scaling.cpu_threshold). */
  readonly cpuPercent?: number
  /** Requests in flight per instance, as the gateway counts them (scaling.target_in_flight). */
  readonly inFlight?: number
  /** How long the load must stay above target before instances are added. */
  readonly upMs: number
  /** How long the load must stay well below target before instances are removed. */
  readonly downMs: number
  /** No autoscaling for this long after the instance count changed. */
  readonly cooldownMs: number
}

export interface AgentDeployment {
  /** Absolute path of the agent module (a file, or a directory with index.ts/index.js). */
  readonly path: string
  readonly securityProfile: "standard" | "strict" | "trusted"
  /** Exactly the variables the agent sees (secrets already resolved). */
  readonly environment: Readonly<Record<string, string>>
  /** Capabilities the config declares; the agent reports what it really offers at ready. */
  readonly capabilities: ReadonlyArray<string>
  /** May open network connections (`network: true`, or it depends on a service). */
  readonly network: boolean
  readonly maxMemoryMb?: number
  readonly maxCpuPercent?: number
  readonly timeoutMs?: number
  readonly heartbeatIntervalMs: number
  readonly heartbeatTtlMs: number
  /** Its `ctx.logger` entries below this are dropped (log_level; absent: runtime.log_level). */
  readonly logLevel?: AgentLogLevel
  /** The only directory a `standard` sandbox may write. */
  readonly dataDir: string
  readonly persona?: string
  readonly version?: string
  /** Concurrent invocations per instance; more queue in the router. */
  readonly concurrency?: number
  /** Calls that may queue for its capabilities while every instance is busy (max_queue). */
  readonly maxQueue?: number
  /** Run the agent process as this user/group (only when SAM runs as root; child runtimes only). */
  readonly runAs?: { readonly uid?: number; readonly gid?: number }
  /** The agent's own config section, passed to its handlers as `ctx.config`. */
  readonly config: Readonly<Record<string, unknown>>
}

export const defaultRestart: RestartSpec = {
  type: "permanent",
  maxRestarts: 5,
  windowMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 300_000,
  stableMs: 10_000,
  forceExitCodes: [],
  preventExitCodes: [],
  onExhausted: "retry",
}

export const defaultStop: StopSpec = { signal: "SIGTERM", graceMs: 10_000 }

/** Most instances `spec` may run. */
export const maxInstancesOf = (spec: UnitSpec): number =>
  Math.max(spec.instances, spec.maxInstances ?? spec.instances)

/**
 * The name of instance `index` of a unit: the unit's id when it can only ever have one
 * instance, else `id#index` (stable while the unit scales: `api#0`, `api#1`).
 */
export const instanceKey = (spec: UnitSpec, index: number): string =>
  maxInstancesOf(spec) > 1 ? `${spec.id}#${index}` : spec.id
