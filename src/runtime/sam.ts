// SAM as a library: the facade every surface (daemon, API, CLI, plugins, embedding apps) uses.
// It owns the event bus, the supervisor (private: surfaces never see runners or drivers), probe
// kinds and the capability router, and is the one place Effects become Promises. start() and
// stop() are idempotent and safe to call concurrently; stop() is bounded by shutdownTimeoutMs.
import { Cause, Effect, Exit, type Fiber, Scope } from "effect"
import type { CommandName, StopOptions } from "../actors/lifecycleTypes.ts"
import { didYouMean } from "../config/suggest.ts"
import { startAutoscaler } from "./autoscaling/autoscaler.ts"
import type { UnitTraffic } from "./autoscaling/unitTraffic.ts"
import type { InvokeOptions, InvokeResult } from "./capabilities/capability.ts"
import { CapabilityRouter } from "./capabilities/capabilityRouter.ts"
import { diffUnits, isEmptyDiff, type UnitDiff } from "./configDiff.ts"
import {
  type Containment,
  type ContainmentMode,
  detectContainment,
  type Reaper,
  startReaper,
} from "./containment/index.ts"
import { agentDrivers } from "./drivers/agent/agentDrivers.ts"
import { containerDriver } from "./drivers/containerDriver.ts"
import type { Driver } from "./drivers/driver.ts"
import { externalDriver } from "./drivers/externalDriver.ts"
import { processDriver } from "./drivers/processDriver.ts"
import { EventBus, type Listener, runEventIdBase, type SamEvent } from "./eventBus.ts"
import type { PortRange } from "./freePort.ts"
import { builtinProbes } from "./health/builtinProbes.ts"
import type { HealthRecord, ProbeRegistry } from "./health/probe.ts"
import { LogFiles } from "./logs/logFiles.ts"
import { LogHub, type LogListener } from "./logs/logHub.ts"
import type { LogQuery, LogRecord } from "./logs/logRecord.ts"
import { MemoryLog } from "./logs/memoryLog.ts"
import type { RotationSettings } from "./logs/rotatingFile.ts"
import type { OutputLine } from "./output/recentLines.ts"
import { chooseSandbox, type SandboxChoice, type SandboxPolicy } from "./sandboxChoice.ts"
import { CommandRefused } from "./supervisor/commandEvent.ts"
import type { OutputSource } from "./supervisor/contracts.ts"
import {
  type GroupSpec,
  SamStopping,
  type StartReport,
  Supervisor,
  type SupervisorMemory,
  UnitNotFound,
  type UnitStatus,
} from "./supervisor/supervisor.ts"
import { describeStatus } from "./supervisor/unitStatus.ts"
import { instanceKey, type UnitKind, type UnitSpec } from "./unitSpec.ts"
import { UnitTokens } from "./unitTokens.ts"

/** What surfaces read of a unit, through this facade rather than the supervisor. */
export type { UnitStatus, UnitTraffic }

export interface SamOptions {
  readonly units: ReadonlyArray<UnitSpec>
  readonly groups?: ReadonlyArray<GroupSpec> | undefined
  /** How long start() waits for units to become ready before it reports. */
  readonly startTimeoutMs?: number | undefined
  /** stop() SIGKILLs whatever is still running after this (runtime.shutdown_timeout_seconds). */
  readonly shutdownTimeoutMs?: number | undefined
  readonly maxQueue?: number | undefined
  /** Longest output line kept whole (monitoring.logs.max_line_kb × 1024). */
  readonly maxLineBytes?: number | undefined
  /** Ports for services without deployment.port come from here (runtime.port_range; default any free one). */
  readonly portRange?: PortRange | undefined
  /** Recent output lines kept in memory per instance (monitoring.logs.max_lines_per_unit). */
  readonly recentLines?: number | undefined
  /** Every line of unit output, as it is read (besides `sam.logs`). */
  readonly output?: (unit: string, instance: number, line: OutputLine) => void
  /** runtime.log_level: agents' `ctx.logger` entries below it are dropped (default info). */
  readonly logLevel?: string
  /**
   * Keep unit logs as files in `dir` (<state_dir>/logs), rotated by size. Without it the last
   * `recentLines` lines of each unit are kept in memory only.
   */
  readonly logs?: (RotationSettings & { readonly dir: string }) | undefined
  /** Ports, restart windows and the operator's desired states that survive SAM restarts. */
  readonly memory?: SupervisorMemory | undefined
  /** Extra drivers (tests, embedders) by runtime name; agent runtimes as `agent:<runtime>`. */
  readonly drivers?: ReadonlyArray<readonly [string, Driver]> | undefined
  /** This SAM's id (names its cgroups and marks its processes); default random. */
  readonly samId?: string | undefined
  /**
   * How processes are contained (runtime.containment): "auto" (default) picks the best of
   * cgroup v2, cgroup v1, process groups; false: process groups only, no cells, no reaper.
   */
  readonly containment?: "auto" | ContainmentMode | false | undefined
  /** Start the reaper that kills SAM's processes if SAM dies hard (default true). */
  readonly reaper?: boolean | undefined
  /**
   * How often each running instance's whole process tree is measured (default 2 s); the
   * autoscaler looks at its units as often.
   */
  readonly usageIntervalMs?: number | undefined
  /** How the `sandbox` agent runtime walls agents in (security.sandbox, allow_weak_sandbox). */
  readonly sandbox?: SandboxPolicy | undefined
}

export interface SamStatus {
  readonly timestamp: string
  readonly uptimeMs: number
  readonly units: ReadonlyArray<UnitStatus>
}

/** Lifecycle commands on the units of one kind (`sam.agents`, `sam.services`). */
export interface UnitCommands {
  start(id: string, options?: CommandCall): Promise<void>
  stop(id: string, options?: StopOptions & CommandCall): Promise<void>
  restart(id: string, options?: CommandCall): Promise<void>
  suspend(id: string, options?: CommandCall): Promise<void>
  resume(id: string, options?: CommandCall): Promise<void>
  status(id: string): UnitStatus
  list(): ReadonlyArray<UnitStatus>
}

/** Who gives a command (audited, and recorded with the desired state it sets). */
export interface CommandActor {
  readonly name: string
  /** viewer | operator | admin for API tokens; absent for local callers. */
  readonly role?: string | undefined
  /** api | library */
  readonly via: string
}

/** An embedding app's calls, when it names no actor. */
export const libraryActor: CommandActor = { name: "embedding", via: "library" }

export interface CommandCall {
  readonly actor?: CommandActor | undefined
}

type Finalizer = () => Promise<void> | void

/** A lifecycle command that went through Sam, and how it ended (for the audit log). */
export interface CommandRecord {
  readonly unit: string
  readonly kind: UnitKind | undefined
  readonly command: CommandName
  readonly options: StopOptions
  readonly actor: CommandActor
  /** ok, refused (CommandRefused or SAM stopping, with the state), not_found (UnitNotFound) or failed. */
  readonly outcome: "ok" | "refused" | "not_found" | "failed"
  readonly state?: string | undefined
  readonly error?: string | undefined
}

export type CommandListener = (record: CommandRecord) => void

/** What a config change did to the units (reload). */
export interface ApplyReport {
  readonly diff: UnitDiff
  /** Units the change scaled (diff.scaled whose count changed), with the count they run now. */
  readonly scaled: ReadonlyArray<{ readonly unit: string; readonly instances: number }>
  readonly changed: boolean
  /**
   * Units an operator had stopped whose config the change touched, started with it: a config
   * change ends an operator's kept stop (as it does across a restart of SAM).
   */
  readonly started: ReadonlyArray<string>
  readonly failures: Array<{ readonly unit: string; readonly error: string }>
}

/** Every unit's output: read back (files or memory) and live. */
export interface UnitLogs {
  /**
   * The last `query.lines` (default 100) records of unit `id` that match the query, oldest first,
   * up to the line read last. Rejects with UnitNotFound (with a did-you-mean).
   */
  read(id: string, query?: LogQuery): Promise<ReadonlyArray<LogRecord>>
  /** Every unit's records as they are captured, one batch per event-loop turn. */
  subscribe(listener: LogListener): () => void
  /** The seq of unit `id`'s newest record (0: none yet). */
  lastSeq(id: string): number
}

/** One probe result of one instance, as `observeProbes` listeners receive it. */
export interface ProbeObservation extends HealthRecord {
  readonly unit: string
  readonly kind: UnitKind
  readonly instance: number
}

export type ProbeListener = (observation: ProbeObservation) => void

/** SAM's reaper (the process that kills what SAM ran should SAM die hard), for the watchdog. */
export interface ReaperStatus {
  readonly pid: number
  readonly alive: boolean
}

/** Recent output and health history of one instance. */
export interface InstanceRecords {
  readonly instance: number
  readonly output: ReadonlyArray<OutputLine>
  readonly health: ReadonlyArray<HealthRecord>
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

export class Sam {
  readonly bus: EventBus
  readonly probes: ProbeRegistry
  readonly capabilities: CapabilityRouter
  readonly agents: UnitCommands
  readonly services: UnitCommands
  readonly events: {
    subscribe(listener: Listener): () => void
    since(afterId?: number): ReadonlyArray<SamEvent>
  }
  readonly logs: UnitLogs
  /**
   * The credential each unit's processes get as SAM_GATEWAY_TOKEN (fresh for each SAM): the
   * gateway verifies it (`unitTokens.verify(token)` → the unit id) against the unit's depends_on.
   */
  readonly unitTokens = new UnitTokens()
  /** runtime.log_level now (a reload sets it): agents' logger entries below it are dropped. */
  logLevel: string

  /** How this SAM contains its processes (undefined: process groups only). */
  readonly containment: Containment | undefined
  private readonly sandboxPolicy: SandboxPolicy
  private sandboxChoice: SandboxChoice | undefined
  private readonly reaper: Reaper | undefined
  private readonly supervisor: Supervisor
  private readonly scope: Scope.Closeable
  private readonly startedAt = Date.now()
  private readonly startTimeoutMs: number
  private readonly shutdownTimeoutMs: number
  private starting: Promise<StartReport> | undefined
  private stopping: Promise<void> | undefined
  private readonly finalizers: Finalizer[] = []
  private readonly commandListeners = new Set<CommandListener>()
  private readonly logHub: LogHub
  private readonly usageIntervalMs: number
  private traffic: UnitTraffic | undefined
  private autoscaler: Fiber.Fiber<never> | undefined
  private readonly probeListeners = new Set<ProbeListener>()
  /** Capabilities each agent offers without its config declaring them, by unit id. */
  private readonly undeclared = new Map<string, ReadonlyArray<string>>()

  constructor(options: SamOptions) {
    this.logLevel = options.logLevel ?? "info"
    this.sandboxPolicy = options.sandbox ?? {}
    this.bus = new EventBus(1000, runEventIdBase())
    this.probes = builtinProbes()
    this.capabilities = new CapabilityRouter({
      ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
      whyMissing: (capability) => this.providersDown(capability),
      hintMissing: (capability) => this.offeredUndeclared(capability),
    })
    // What each agent offers that its config does not declare (so is not routed), for the hint.
    const offUndeclared = this.bus.subscribe((event) => {
      if (event.type !== "agent.undeclared-capability" || typeof event.unit !== "string") return
      const offered = (event as { capabilities?: unknown }).capabilities
      if (Array.isArray(offered)) this.undeclared.set(event.unit, offered.map(String))
    })
    this.addFinalizer(() => offUndeclared())
    const drivers = new Map<string, Driver>([
      ["process", processDriver],
      ["external", externalDriver],
      ["container", containerDriver],
      // Calls agents make go through this SAM's router.
      ...agentDrivers(
        {
          invoke: (capability, input, invokeOptions) =>
            this.capabilities.invoke(capability, input, invokeOptions),
          stream: (capability, input, invokeOptions) =>
            this.capabilities.stream(capability, input, invokeOptions),
        },
        () => this.sandbox,
      ),
      ...(options.drivers ?? []),
    ])
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000
    this.usageIntervalMs = options.usageIntervalMs ?? 2_000
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000
    this.scope = Effect.runSync(Scope.make())
    const mode = options.containment ?? "auto"
    this.containment =
      mode === false
        ? undefined
        : detectContainment({
            ...(mode === "auto" ? {} : { force: mode }),
            ...(options.samId === undefined ? {} : { samId: options.samId }),
          })
    // Outlives SAM only to kill what SAM ran, should SAM die hard.
    this.reaper = this.containment && options.reaper !== false ? startReaper(this.containment) : undefined
    this.logHub = this.makeLogHub(options)
    const hub = this.logHub
    const output = options.output
    this.supervisor = Effect.runSync(
      Supervisor.make(options.units, options.groups ?? [], {
        drivers,
        probes: this.probes,
        capabilities: this.capabilities,
        ...(this.containment === undefined ? {} : { containment: this.containment }),
        publish: (event) => this.bus.publish(event),
        ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
        ...(options.portRange === undefined ? {} : { portRange: options.portRange }),
        recentLines: { lines: options.recentLines ?? 200, bytes: 256 * 1024 },
        output: (runner: OutputSource, line: OutputLine) => {
          hub.push(runner.spec.id, runner.index, line)
          output?.(runner.spec.id, runner.index, line)
        },
        logLevel: () => this.logLevel,
        ...(options.memory === undefined ? {} : { memory: options.memory }),
        usageIntervalMs: this.usageIntervalMs,
        // Before an operator's stop or restart signals an instance: the traffic's (gateway's) drain.
        drain: (unit, instance) => {
          const traffic = this.traffic
          return traffic === undefined
            ? Effect.void
            : this.drained((u, i) => traffic.drain(u, i), unit, instance)
        },
        variablesFor: (spec) => ({ SAM_GATEWAY_TOKEN: this.unitTokens.issue(spec.id) }),
        onProbe: (runner, record) => {
          // Every check of every instance passes here: nothing is allocated unless someone listens.
          if (this.probeListeners.size === 0) return
          const observation = {
            ...record,
            unit: runner.spec.id,
            kind: runner.spec.kind,
            instance: runner.index,
          }
          for (const listener of this.probeListeners) {
            try {
              listener(observation)
            } catch {
              // A metrics listener must never disturb the health monitor.
            }
          }
        },
      }).pipe(Scope.provide(this.scope)),
    )
    this.agents = this.commandsFor("agent")
    this.services = this.commandsFor("service")
    this.events = { subscribe: (l) => this.bus.subscribe(l), since: (id) => this.bus.since(id) }
    this.logs = {
      read: async (id, query) => {
        this.requireUnit(id)
        return this.logHub.read(id, query ?? {})
      },
      subscribe: (listener) => this.logHub.subscribe(listener),
      lastSeq: (id) => {
        this.requireUnit(id)
        return this.logHub.lastSeq(id)
      },
    }
  }

  /** Files when a logs dir is given, else memory; losses and failures are said on the bus. */
  private makeLogHub(options: SamOptions): LogHub {
    const settings = options.logs
    const report = (detail: string) => this.bus.publish({ type: "supervisor", action: "logs-failed", detail })
    const storage =
      settings === undefined
        ? new MemoryLog(options.recentLines ?? 200)
        : new LogFiles({
            ...settings,
            onDropped: (unit, lines, bytes) => {
              const text = `sam: dropped ${lines} lines (${bytes} bytes) of output: "${unit}" wrote faster than its log could be written`
              hub.note(unit, 0, text)
              this.bus.publish({ type: "logs.dropped", unit, lines, bytes, detail: text })
            },
            onError: (unit, error) =>
              report(`writing the log of "${unit}" in ${settings.dir} failed: ${describe(error)}`),
          })
    const hub = new LogHub(storage, {
      onListenerError: (error) => report(`a unit log subscriber threw: ${describe(error)}`),
    })
    return hub
  }

  /** How sandboxed agents are walled in on this host (bubblewrap is checked on first use). */
  get sandbox(): SandboxChoice {
    this.sandboxChoice ??= chooseSandbox(this.sandboxPolicy)
    return this.sandboxChoice
  }

  /**
   * Start every enabled unit in dependency order (once: calls meanwhile and after share that
   * start), or only `ids` (each call starts them; a later `start()` starts the rest); resolves
   * with who is ready. An id SAM does not run rejects with UnitNotFound, starting nothing.
   */
  start(ids?: ReadonlyArray<string>): Promise<StartReport> {
    if (this.stopping)
      return Promise.reject(
        new SamStopping({ message: "SAM is stopped; create a new instance to start again" }),
      )
    try {
      for (const id of ids ?? []) this.requireUnit(id)
    } catch (error) {
      return Promise.reject(error)
    }
    this.autoscaler ??= this.startAutoscaling()
    if (ids !== undefined) return Effect.runPromise(this.supervisor.startAll(this.startTimeoutMs, ids))
    this.starting ??= Effect.runPromise(
      this.supervisor.startAll(this.startTimeoutMs, this.supervisor.startOrder()),
    )
    return this.starting
  }

  /**
   * Stop every unit (dependents first) and release everything SAM holds. Bounded: whatever is
   * still running after the shutdown timeout is SIGKILLed. `graceful: false` SIGKILLs at once,
   * also during a graceful stop already under way (what is left of it).
   */
  stop(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<void> {
    // Asked again, not gracefully, while a graceful stop runs: what is still stopping dies now.
    if (this.stopping !== undefined && options.graceful === false) this.supervisor.hurryShutdown()
    this.stopping ??= (async () => {
      const timeoutMs = options.graceful === false ? 0 : (options.timeoutMs ?? this.shutdownTimeoutMs)
      await Effect.runPromise(this.supervisor.shutdown({ timeoutMs }))
      // Every unit is down: its last lines are in; write them out.
      await this.logHub.close()
      for (const finalizer of this.finalizers.reverse()) {
        try {
          await finalizer()
        } catch (error) {
          this.bus.publish({ type: "supervisor", action: "finalizer-failed", detail: describe(error) })
        }
      }
      await Effect.runPromise(Scope.close(this.scope, Exit.void))
      await this.containment?.dispose()
      await this.reaper?.close()
    })()
    return this.stopping
  }

  /** Whether stop() has been called. */
  get isStopping(): boolean {
    return this.stopping !== undefined
  }

  /** Run `finalizer` when SAM stops, after every unit is down (last registered runs first). */
  addFinalizer(finalizer: Finalizer): void {
    this.finalizers.push(finalizer)
  }

  status(): SamStatus {
    return {
      timestamp: new Date().toISOString(),
      uptimeMs: Date.now() - this.startedAt,
      units: this.supervisor.statuses(),
    }
  }

  /**
   * What SAM calls instance `instance` of unit `id` in `sam ps`, logs and messages: the unit's id
   * when it can only ever run one instance, else `id#instance` (`web#0`, `web#1`).
   */
  instanceName(id: string, instance: number): string {
    const spec = this.supervisor.spec(id)
    return spec === undefined ? (instance > 0 ? `${id}#${instance}` : id) : instanceKey(spec, instance)
  }

  /** The status of one unit; throws UnitNotFound (with a did-you-mean). */
  unitStatus(id: string): UnitStatus {
    this.requireUnit(id)
    return this.supervisor.status(id)
  }

  /**
   * Resolves once `predicate` holds for unit `id`'s status (checked now, on each of its
   * transitions and supervisor events); rejects after `timeoutMs` (default 60 s) naming the unit and its state.
   *
   * @example
   * ```ts
   * await sam.until("api", (s) => s.state === "running" && s.ready)
   * ```
   */
  until(id: string, predicate: (status: UnitStatus) => boolean, timeoutMs = 60_000): Promise<UnitStatus> {
    this.requireUnit(id)
    return new Promise((resolve, reject) => {
      const check = () => {
        const status = this.supervisor.status(id)
        if (!predicate(status)) return false
        off()
        clearTimeout(timer)
        resolve(status)
        return true
      }
      // Transitions, and the supervisor's word on the unit (a scale down ends with one).
      const off = this.bus.subscribe((event) => {
        if ((event.type === "transition" || event.type === "supervisor") && event.unit === id) check()
      })
      const timer = setTimeout(() => {
        off()
        reject(
          new Error(
            `"${id}" did not reach the awaited state within ${timeoutMs} ms (it is ${describeStatus(this.supervisor.status(id))})`,
          ),
        )
      }, timeoutMs)
      check()
    })
  }

  /** The specs of every unit, in start (dependency) order. */
  unitSpecs(): ReadonlyArray<UnitSpec> {
    return this.supervisor.startOrder().flatMap((id) => {
      const spec = this.supervisor.spec(id)
      return spec ? [spec] : []
    })
  }

  /**
   * Be told about every probe result of every instance (the bus carries only changes); returns
   * the unsubscribe function. Listeners run on the probe's fiber: keep them cheap.
   */
  observeProbes(listener: ProbeListener): () => void {
    this.probeListeners.add(listener)
    return () => {
      this.probeListeners.delete(listener)
    }
  }

  /** The reaper's pid and whether it still runs; undefined when this SAM runs none. */
  reaperStatus(): ReaperStatus | undefined {
    return this.reaper === undefined ? undefined : { pid: this.reaper.pid, alive: this.reaper.alive() }
  }

  /** Each instance's recent output and health history (oldest first). */
  records(id: string): ReadonlyArray<InstanceRecords> {
    this.requireUnit(id)
    return this.supervisor
      .runners(id)
      .map((r) => ({ instance: r.index, output: r.output.last(), health: r.health }))
  }

  /** Supervision groups with their strategy and whether they are shut down. */
  groups() {
    return this.supervisor.groupStates()
  }

  invoke(capability: string, input: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    return this.capabilities.invoke(capability, input, options)
  }

  /**
   * Run `count` instances of unit `id` (0 to its scaling.max_instances): new ones start, the
   * highest-numbered beyond `count` are drained (`drain`, default the traffic's from useTraffic:
   * the gateway's in-flight requests), stopped and released. Resolves once the new instances are
   * starting or the removed ones stopped. The autoscaler, if the unit has one, goes on from this
   * count after its cooldown. Rejects with UnitNotFound, ScaleRefused (out of range, naming it)
   * or SamStopping.
   *
   * @example
   * ```ts
   * await sam.scale("api", 3)
   * ```
   */
  scale(
    id: string,
    count: number,
    options: {
      drain?: (unit: string, instance: number) => Promise<void>
      /** false: not kept across SAM restarts (default: kept until scaled again or the unit's config changes). */
      remember?: boolean | undefined
    } & CommandCall = {},
  ): Promise<void> {
    return Effect.runPromise(
      Effect.suspend(() => {
        this.requireUnit(id)
        const actor = options.actor ?? libraryActor
        return this.scaleUnit(id, count, {
          by: `${actor.via}:${actor.name}`,
          ...(options.drain === undefined ? {} : { drain: options.drain }),
          ...(options.remember === undefined ? {} : { remember: options.remember }),
        })
      }),
    )
  }

  /**
   * Plug in what routes requests to the units (the gateway): its in-flight counts feed the
   * autoscaler's target_in_flight, and its drain runs before an instance is scaled away.
   * Returns the function that unplugs it.
   */
  useTraffic(traffic: UnitTraffic): () => void {
    this.traffic = traffic
    return () => {
      if (this.traffic === traffic) this.traffic = undefined
    }
  }

  private scaleUnit(
    id: string,
    count: number,
    options: {
      by: string
      reason?: string | undefined
      remember?: boolean | undefined
      start?: boolean | undefined
      drain?: (unit: string, instance: number) => Promise<void>
    },
  ) {
    const drain = options.drain ?? this.traffic?.drain.bind(this.traffic)
    return this.supervisor.scale(id, count, {
      by: options.by,
      ...(options.remember === undefined ? {} : { remember: options.remember }),
      ...(options.start === undefined ? {} : { start: options.start }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(drain === undefined
        ? {}
        : { drain: (unit: string, instance: number) => this.drained(drain, unit, instance) }),
    })
  }

  /** `drain` of an instance as an Effect that never fails: a failure is said, and the stop goes on. */
  private drained(
    drain: (unit: string, instance: number) => Promise<void>,
    unit: string,
    instance: number,
  ): Effect.Effect<void> {
    return Effect.tryPromise(() => drain(unit, instance)).pipe(
      // A drain that fails leaves the instance to its stop (and its grace period).
      Effect.catch((error) =>
        Effect.sync(() =>
          this.bus.publish({
            type: "supervisor",
            action: "drain-failed",
            unit,
            detail: `draining ${this.instanceName(unit, instance)} failed: ${describe(error.cause ?? error)}; stopping it anyway`,
          }),
        ),
      ),
    )
  }

  /** The autoscaler's fiber, in SAM's scope: it scales as "autoscaler" and drains like `scale`. */
  private startAutoscaling(): Fiber.Fiber<never> {
    const supervisor = this.supervisor
    return Effect.runSync(
      startAutoscaler(
        {
          specs: () => (supervisor.shuttingDown ? [] : supervisor.specs()),
          status: (id) => (supervisor.has(id) ? supervisor.status(id) : undefined),
          scale: (id, count, reason) =>
            this.scaleUnit(id, count, { by: "autoscaler", reason, remember: false }),
          traffic: () => this.traffic,
          publish: (event) => this.bus.publish(event),
          intervalMs: this.usageIntervalMs,
        },
        this.scope,
      ),
    )
  }

  /** A lifecycle command on any unit by id. */
  async command(id: string, command: CommandName, options: StopOptions & CommandCall = {}): Promise<void> {
    return this.recorded(id, undefined, command, options)
  }

  /** Be told about every lifecycle command run through this Sam (audit); returns the unsubscribe function. */
  onCommand(listener: CommandListener): () => void {
    this.commandListeners.add(listener)
    return () => {
      this.commandListeners.delete(listener)
    }
  }

  /**
   * Apply a new set of units and groups (a config reload) as a diff: removals (dependents
   * first), replacements (stop, swap, start again; ports kept; a crashed unit too), in-place
   * changes, scales (a change of the count alone: instances added or drained), additions (their starts begun, not waited for: one may wait for a dependency).
   * Starts nothing when `start` is false (before SAM has started).
   */
  apply(
    next: { units: ReadonlyArray<UnitSpec>; groups: ReadonlyArray<GroupSpec> },
    start = true,
  ): Promise<ApplyReport> {
    const supervisor = this.supervisor
    const scaleUnit = (id: string, count: number, run: boolean) =>
      this.scaleUnit(id, count, { by: "config", remember: false, start: run })
    const program = Effect.gen(function* () {
      const diff = diffUnits(supervisor.specs(), next.units, {
        before: supervisor.groupSpecs(),
        after: next.groups,
      })
      supervisor.configureGroups(next.groups)
      const failures: Array<{ unit: string; error: string }> = []
      const attempt = (unit: string, step: Effect.Effect<void, unknown>) =>
        step.pipe(
          Effect.catchCause((cause) =>
            Effect.sync(() => {
              failures.push({ unit, error: describe(Cause.squash(cause)) })
            }),
          ),
        )
      // Read against the specs the stops were made for, before the new ones replace them.
      const held = [...diff.restarted, ...diff.reconfigured, ...diff.scaled]
        .map((spec) => spec.id)
        .filter((id) => supervisor.heldBy(id) !== undefined)
      const order = supervisor.startOrder()
      const removed = [...diff.removed].sort((a, b) => order.indexOf(b) - order.indexOf(a))
      for (const id of removed) yield* attempt(id, supervisor.remove(id))
      for (const spec of diff.restarted) yield* attempt(spec.id, supervisor.replace(spec))
      for (const spec of diff.reconfigured) yield* attempt(spec.id, supervisor.reconfigure(spec))
      // Only the count changed: a scale, as `sam scale` does (the other instances untouched).
      const scaled: Array<{ unit: string; instances: number }> = []
      for (const spec of diff.scaled)
        yield* attempt(
          spec.id,
          Effect.gen(function* () {
            const before = supervisor.runners(spec.id).length
            const { count, start: run, scale } = yield* supervisor.takeCount(spec)
            if (scale) yield* scaleUnit(spec.id, count, start && run && !supervisor.shuttingDown)
            if (count !== before) scaled.push({ unit: spec.id, instances: count })
          }),
        )
      for (const spec of diff.added)
        yield* attempt(
          spec.id,
          Effect.sync(() => supervisor.add(spec)),
        )
      if (start && !supervisor.shuttingDown)
        yield* Effect.forEach(diff.added, (spec) => attempt(spec.id, supervisor.launch(spec.id)), {
          concurrency: "unbounded",
          discard: true,
        })
      // The new spec no longer matches the stop's record (heldBy now forgets it): start them.
      const started =
        start && !supervisor.shuttingDown ? held.filter((id) => supervisor.heldBy(id) === undefined) : []
      for (const id of started) yield* attempt(id, supervisor.launch(id))
      return { diff, scaled, changed: !isEmptyDiff(diff), started, failures }
    })
    return Effect.runPromise(program)
  }

  private async recorded(
    id: string,
    kind: UnitKind | undefined,
    command: CommandName,
    { actor = libraryActor, ...options }: StopOptions & CommandCall,
  ) {
    const tell = (outcome: CommandRecord["outcome"], error?: { message?: string; state?: string }) => {
      const record: CommandRecord = {
        unit: id,
        kind: kind ?? this.supervisor.spec(id)?.kind,
        command,
        options,
        actor,
        outcome,
        ...(error?.state === undefined ? {} : { state: error.state }),
        ...(error === undefined ? {} : { error: error.message ?? "failed" }),
      }
      for (const listener of this.commandListeners) {
        try {
          listener(record)
        } catch {
          // An audit listener must never change the outcome of a command.
        }
      }
    }
    const exit = await Effect.runPromiseExit(
      Effect.suspend(() => {
        this.requireUnit(id, kind)
        return this.supervisor.command(id, command, { ...options, by: `${actor.via}:${actor.name}` })
      }),
    )
    if (Exit.isSuccess(exit)) {
      tell("ok")
      return
    }
    const error = Cause.squash(exit.cause)
    if (error instanceof UnitNotFound) tell("not_found", error)
    else if (error instanceof SamStopping) tell("refused", { message: error.message, state: "stopping" })
    else if (error instanceof CommandRefused) tell("refused", error)
    else tell("failed", { message: describe(error) })
    throw error
  }

  /**
   * Why `capability` has no running provider when configured agents declare it: which ones and
   * their state, and how to bring one up. Undefined when no agent declares it.
   */
  private offeredUndeclared(capability: string): string | undefined {
    const agents = [...this.undeclared]
      .filter(
        ([id, offered]) =>
          offered.includes(capability) &&
          this.supervisor.spec(id) !== undefined &&
          this.supervisor.status(id).state === "running",
      )
      .map(([id]) => id)
    if (agents.length === 0) return undefined
    const where = agents.map((id) => `agents.${id}.capabilities`).join(" or ")
    return `${agents.join(", ")} ${agents.length === 1 ? "offers" : "offer"} it, but the config does not declare it (a capability is routed only once listed): add "${capability}" to ${where}`
  }

  private providersDown(capability: string): string | undefined {
    const declaring = this.supervisor
      .specs()
      .filter((s) => s.kind === "agent" && s.agent?.capabilities.includes(capability))
    if (declaring.length === 0) return undefined
    const states = declaring.map((s) => ({ id: s.id, state: this.supervisor.status(s.id).state }))
    const named = states.map((s) => `${s.id} (${s.state})`).join(", ")
    const startable = states.find((s) => ["stopped", "crashed", "error"].includes(s.state))
    const running = states.some((s) => s.state === "running")
    const hint = startable ? `; start one with \`sam start ${startable.id}\`` : ""
    return `its providers ${named} ${running ? "do not serve it" : "are not running"}${hint}`
  }

  private requireUnit(id: string, kind?: UnitKind): UnitSpec {
    const spec = this.supervisor.spec(id)
    if (spec && (kind === undefined || spec.kind === kind)) return spec
    const noun = kind ?? "agent or service"
    if (spec)
      throw new UnitNotFound({
        unit: id,
        message: `"${id}" is ${spec.kind === "agent" ? "an agent" : "a service"}, not ${kind === "agent" ? "an agent" : "a service"}`,
      })
    const hint = didYouMean(
      id,
      this.supervisor
        .specs()
        .filter((s) => kind === undefined || s.kind === kind)
        .map((s) => s.id),
    )
    throw new UnitNotFound({
      unit: id,
      message: `no ${noun} "${id}"${hint ? ` (did you mean "${hint}"?)` : ""}`,
    })
  }

  private commandsFor(kind: UnitKind): UnitCommands {
    const run = (id: string, command: CommandName, options: StopOptions & CommandCall = {}) =>
      this.recorded(id, kind, command, options)
    return {
      start: (id, options) => run(id, "start", options),
      stop: (id, options) => run(id, "stop", options),
      restart: (id, options) => run(id, "restart", options),
      suspend: (id, options) => run(id, "suspend", options),
      resume: (id, options) => run(id, "resume", options),
      status: (id) => {
        this.requireUnit(id, kind)
        return this.supervisor.status(id)
      },
      list: () => this.supervisor.statuses().filter((s) => s.kind === kind),
    }
  }
}
