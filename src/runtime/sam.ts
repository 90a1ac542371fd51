// SAM as a library: one object that owns the event bus, the supervisor, the drivers, probe
// kinds and the capability router. The daemon, the CLI and embedding Node apps all use this.
// start() and stop() are idempotent and safe to call concurrently.
import type { CommandName, StopOptions } from "../actors/lifecycle.machine.ts"
import { didYouMean } from "../config/suggest.ts"
import type { InvokeOptions, InvokeResult } from "./capabilities/capability.ts"
import { CapabilityRouter } from "./capabilities/capabilityRouter.ts"
import { agentDrivers } from "./drivers/agent/agentDrivers.ts"
import { containerDriver } from "./drivers/containerDriver.ts"
import type { Driver } from "./drivers/driver.ts"
import { externalDriver } from "./drivers/externalDriver.ts"
import { processDriver } from "./drivers/processDriver.ts"
import { EventBus, type Listener, type SamEvent } from "./eventBus.ts"
import { builtinProbes } from "./health/builtinProbes.ts"
import type { ProbeRegistry } from "./health/probe.ts"
import { type GroupSpec, type StartReport, Supervisor, UnitNotFound, type UnitStatus } from "./supervisor.ts"
import type { UnitKind, UnitSpec } from "./unitSpec.ts"

export interface SamOptions {
  readonly units: ReadonlyArray<UnitSpec>
  readonly groups?: ReadonlyArray<GroupSpec>
  /** Lines of output kept per instance. */
  readonly maxLogLines?: number
  /** How long start() waits for units to become ready before it reports. */
  readonly startTimeoutMs?: number
  readonly maxQueue?: number
}

export interface SamStatus {
  readonly timestamp: string
  readonly uptimeMs: number
  readonly units: ReadonlyArray<UnitStatus>
}

/** Lifecycle commands on the units of one kind (`sam.agents`, `sam.services`). */
export interface UnitCommands {
  start(id: string): Promise<void>
  stop(id: string, options?: StopOptions): Promise<void>
  restart(id: string): Promise<void>
  suspend(id: string): Promise<void>
  resume(id: string): Promise<void>
  status(id: string): UnitStatus
  list(): ReadonlyArray<UnitStatus>
}

type Finalizer = () => Promise<void> | void

/** A lifecycle command that went through Sam, and how it ended (for the audit log). */
export interface CommandRecord {
  readonly unit: string
  readonly kind: UnitKind | undefined
  readonly command: CommandName
  readonly options: StopOptions
  /** ok, refused (CommandRefused, with the state), not_found (UnitNotFound) or failed. */
  readonly outcome: "ok" | "refused" | "not_found" | "failed"
  readonly state?: string
  readonly error?: string
}

export type CommandListener = (record: CommandRecord) => void

export class Sam {
  readonly bus: EventBus
  readonly supervisor: Supervisor
  readonly probes: ProbeRegistry
  readonly drivers: Map<string, Driver>
  readonly capabilities: CapabilityRouter
  readonly agents: UnitCommands
  readonly services: UnitCommands
  readonly events: {
    subscribe(listener: Listener): () => void
    since(afterId?: number): ReadonlyArray<SamEvent>
  }

  private readonly startedAt = Date.now()
  private readonly startTimeoutMs: number
  private starting: Promise<StartReport> | undefined
  private stopping: Promise<void> | undefined
  private readonly finalizers: Finalizer[] = []
  private readonly commandListeners = new Set<CommandListener>()

  constructor(options: SamOptions) {
    this.bus = new EventBus()
    this.probes = builtinProbes()
    this.drivers = new Map<string, Driver>([
      ["process", processDriver],
      ["external", externalDriver],
      ["container", containerDriver],
      // Calls agents make go through this SAM's router (created below, used only later).
      ...agentDrivers({
        invoke: (capability, input, options) => this.capabilities.invoke(capability, input, options),
      }),
    ])
    this.capabilities = new CapabilityRouter(
      options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue },
    )
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000
    this.supervisor = new Supervisor(options.units, options.groups ?? [], {
      bus: this.bus,
      capabilities: this.capabilities,
      drivers: this.drivers,
      probes: this.probes,
      maxLogLines: options.maxLogLines ?? 1000,
    })
    this.agents = this.commandsFor("agent")
    this.services = this.commandsFor("service")
    this.events = { subscribe: (l) => this.bus.subscribe(l), since: (id) => this.bus.since(id) }
  }

  /** Start every enabled unit in dependency order; resolves with who is ready. */
  start(): Promise<StartReport> {
    if (this.stopping)
      return Promise.reject(new Error("SAM is stopped; create a new instance to start again"))
    this.starting ??= this.supervisor.startAll(this.startTimeoutMs)
    return this.starting
  }

  /** Stop every unit (dependents first) and release everything SAM holds. */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= (async () => {
      await this.supervisor.shutdown(options)
      for (const finalizer of this.finalizers.reverse()) {
        try {
          await finalizer()
        } catch (error) {
          this.bus.publish({ type: "supervisor", action: "finalizer-failed", detail: String(error) })
        }
      }
    })()
    return this.stopping
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

  invoke(capability: string, input: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    return this.capabilities.invoke(capability, input, options)
  }

  /** A lifecycle command on any unit by id. */
  async command(id: string, command: CommandName, options: StopOptions = {}): Promise<void> {
    return this.recorded(id, undefined, command, options, () => {
      this.requireUnit(id)
      return this.supervisor.command(id, command, options)
    })
  }

  /** Be told about every lifecycle command run through this Sam (audit); returns the unsubscribe function. */
  onCommand(listener: CommandListener): () => void {
    this.commandListeners.add(listener)
    return () => {
      this.commandListeners.delete(listener)
    }
  }

  private async recorded(
    unit: string,
    kind: UnitKind | undefined,
    command: CommandName,
    options: StopOptions,
    run: () => Promise<void>,
  ): Promise<void> {
    const tell = (outcome: CommandRecord["outcome"], error?: unknown) => {
      const tagged = error as { _tag?: string; state?: string; message?: string } | undefined
      const record: CommandRecord = {
        unit,
        kind: kind ?? this.supervisor.specs().find((s) => s.id === unit)?.kind,
        command,
        options,
        outcome,
        ...(tagged?.state === undefined ? {} : { state: tagged.state }),
        ...(error === undefined ? {} : { error: tagged?.message ?? String(error) }),
      }
      for (const listener of this.commandListeners) {
        try {
          listener(record)
        } catch {
          // An audit listener must never change the outcome of a command.
        }
      }
    }
    try {
      await run()
      tell("ok")
    } catch (error) {
      const tag = (error as { _tag?: string })._tag
      tell(tag === "CommandRefused" ? "refused" : tag === "UnitNotFound" ? "not_found" : "failed", error)
      throw error
    }
  }

  private requireUnit(id: string, kind?: UnitKind): UnitSpec {
    const specs = this.supervisor.specs()
    const spec = specs.find((s) => s.id === id)
    if (spec && (kind === undefined || spec.kind === kind)) return spec
    const noun = kind ?? "agent or service"
    if (spec)
      throw new UnitNotFound({
        unit: id,
        message: `"${id}" is a ${spec.kind}, not ${kind === "agent" ? "an agent" : "a service"}`,
      })
    const hint = didYouMean(
      id,
      specs.filter((s) => kind === undefined || s.kind === kind).map((s) => s.id),
    )
    throw new UnitNotFound({
      unit: id,
      message: `no ${noun} "${id}"${hint ? ` (did you mean "${hint}"?)` : ""}`,
    })
  }

  private commandsFor(kind: UnitKind): UnitCommands {
    const run = async (id: string, command: CommandName, options: StopOptions = {}) =>
      this.recorded(id, kind, command, options, async () => {
        this.requireUnit(id, kind)
        return this.supervisor.command(id, command, options)
      })
    return {
      start: (id) => run(id, "start"),
      stop: (id, options) => run(id, "stop", options),
      restart: (id) => run(id, "restart"),
      suspend: (id) => run(id, "suspend"),
      resume: (id) => run(id, "resume"),
      status: (id) => {
        this.requireUnit(id, kind)
        return this.supervisor.status(id)
      },
      list: () => this.supervisor.statuses().filter((s) => s.kind === kind),
    }
  }
}
