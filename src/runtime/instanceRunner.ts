// One running instance of a unit: its lifecycle actor, the driver that does the work, and the
// Effect scope that owns the live process. The machine decides; this module provides the state
// actors (spawn, watch health, stop) as Effect fibers and turns driver facts into events.
import { Data, Effect, Exit, Fiber, Scope } from "effect"
import { createActor, fromCallback, fromPromise, type SnapshotFrom } from "xstate"
import {
  type CommandName,
  type ExitInfo,
  type LifecycleEvent,
  type LifecycleState,
  lifecycleMachine,
  readinessOf,
  type StopOptions,
  topState,
} from "../actors/lifecycle.machine.ts"
import type { CapabilityRouter } from "./capabilities/capabilityRouter.ts"
import type { Driver, InstanceHandle } from "./drivers/driver.ts"
import type { EventBus } from "./eventBus.ts"
import { freePort } from "./freePort.ts"
import { monitorHealth } from "./health/healthMonitor.ts"
import type { HealthRecord, ProbeRegistry, ProbeTarget } from "./health/probe.ts"
import type { UnitSpec } from "./unitSpec.ts"

export class CommandRefused extends Data.TaggedError("CommandRefused")<{
  readonly unit: string
  readonly command: CommandName
  readonly state: string
  readonly message: string
}> {}

export interface RunnerEnvironment {
  readonly bus: EventBus
  readonly capabilities?: CapabilityRouter
  readonly drivers: ReadonlyMap<string, Driver>
  readonly probes: ProbeRegistry
  readonly maxLogLines: number
  /** URL of a unit's first ready instance, for dependency injection into children. */
  readonly urlOf?: (id: string) => string | undefined
}

export interface InstanceStatus {
  readonly unit: string
  readonly instance: number
  readonly state: LifecycleState
  readonly ready: boolean
  readonly pid: number | undefined
  readonly port: number | undefined
  readonly url: string | undefined
  readonly restarts: number
  readonly uptimeMs: number
  readonly reason: string
  readonly lastExit: ExitInfo | undefined
  readonly lastHealth: HealthRecord | undefined
}

const historySize = 100

type Snapshot = SnapshotFrom<typeof lifecycleMachine>

/** "running.ready", "running.unready" or the plain state name. */
const stateName = (snapshot: Snapshot): string => {
  const top = topState(snapshot.value)
  const readiness = readinessOf(snapshot.value)
  return readiness ? `${top}.${readiness}` : top
}

export type TransitionListener = (runner: InstanceRunner, from: string, to: string) => void

export class InstanceRunner {
  spec: UnitSpec
  readonly index: number
  readonly health: HealthRecord[] = []
  readonly logs: string[] = []
  restarts = 0
  /** Failures since the instance was last up for `restart.stableMs`; drives backoff growth. */
  consecutiveFailures = 0
  startedAt: number | undefined
  /** Whether it was ever asked to start (a stopped instance that never was is not "settled"). */
  launched = false
  port: number | undefined

  private readonly env: RunnerEnvironment
  private readonly actor: ReturnType<typeof createActor<typeof lifecycleMachine>>
  private handle: InstanceHandle | undefined
  private scope: Scope.Closeable | undefined
  private current: string
  private readonly listeners = new Set<TransitionListener>()
  private lastHealthOk: boolean | undefined
  private restartProbes: (() => void) | undefined
  private probesDone: Fiber.Fiber<void> | undefined

  constructor(spec: UnitSpec, index: number, env: RunnerEnvironment) {
    this.spec = spec
    this.index = index
    this.env = env
    const machine = lifecycleMachine.provide({
      actors: {
        spawnInstance: fromPromise(({ signal }) => Effect.runPromise(this.spawn(), { signal })),
        stopInstance: fromPromise(({ input }) => Effect.runPromise(this.stopProcess(input.options))),
        watchHealth: fromCallback<LifecycleEvent, { id: string }>(({ sendBack }) => this.watch(sendBack)),
      },
    })
    this.actor = createActor(machine, { input: { id: this.key } })
    this.current = stateName(this.actor.getSnapshot())
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot))
    this.actor.start()
  }

  get key(): string {
    return this.spec.instances > 1 ? `${this.spec.id}#${this.index}` : this.spec.id
  }

  get state(): LifecycleState {
    return topState(this.actor.getSnapshot().value)
  }

  get ready(): boolean {
    return readinessOf(this.actor.getSnapshot().value) === "ready"
  }

  get pid(): number | undefined {
    return this.handle?.pid
  }

  get context() {
    return this.actor.getSnapshot().context
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Send a fact or supervisor decision; ignored by the machine when it does not apply. */
  send(event: LifecycleEvent): void {
    this.actor.send(event)
  }

  /** Whether `command` makes sense in the current state. */
  accepts(command: CommandName): boolean {
    return this.actor.getSnapshot().can(commandEvent(command, {}))
  }

  /** An operator command; refused (never thrown at the machine) when the state does not allow it. */
  command(
    command: CommandName,
    options: StopOptions & { reason?: string } = {},
  ): Effect.Effect<void, CommandRefused> {
    return Effect.gen({ self: this }, function* () {
      const event = commandEvent(command, options)
      if (!this.actor.getSnapshot().can(event)) {
        return yield* new CommandRefused({
          unit: this.key,
          command,
          state: this.state,
          message: `cannot ${command} "${this.key}": it is ${this.state}`,
        })
      }
      if (command === "suspend" && this.handle) yield* this.handle.suspend
      if (command === "resume" && this.handle) yield* this.handle.resume
      this.actor.send(event)
    })
  }

  /** Resolves once `predicate` holds for this instance (checked now and on every transition). */
  waitFor(predicate: (runner: InstanceRunner) => boolean, signal?: AbortSignal): Promise<void> {
    if (predicate(this)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const off = this.onTransition(() => {
        if (predicate(this)) {
          off()
          signal?.removeEventListener("abort", onAbort)
          resolve()
        }
      })
      const onAbort = () => {
        off()
        reject(signal?.reason ?? new Error("aborted"))
      }
      signal?.addEventListener("abort", onAbort, { once: true })
    })
  }

  status(): InstanceStatus {
    const snapshot = this.actor.getSnapshot()
    const state = topState(snapshot.value)
    const live = state === "running" || state === "suspended"
    return {
      unit: this.spec.id,
      instance: this.index,
      state,
      ready: readinessOf(snapshot.value) === "ready",
      pid: this.handle?.pid,
      port: this.port ?? this.handle?.port,
      url: this.handle?.url,
      restarts: this.restarts,
      uptimeMs: live && this.startedAt !== undefined ? Date.now() - this.startedAt : 0,
      reason: snapshot.context.reason,
      lastExit: snapshot.context.lastExit,
      lastHealth: this.health.at(-1),
    }
  }

  /**
   * Take a changed spec that needs no restart (health checks, restart policy, stop settings).
   * A running instance's probes restart with the new settings; its process is untouched.
   */
  reconfigure(spec: UnitSpec): void {
    this.spec = spec
    if (this.restartProbes) this.restartProbes()
  }

  /** The machine's JSON-serializable snapshot (state, context) for persistence and debugging. */
  persistedSnapshot(): unknown {
    return this.actor.getPersistedSnapshot()
  }

  /** Stop the actor after making sure nothing of the instance is left running. */
  async dispose(): Promise<void> {
    await Effect.runPromise(this.stopProcess({ graceful: false }))
    this.actor.stop()
    this.listeners.clear()
  }

  private onSnapshot(snapshot: Snapshot): void {
    const next = stateName(snapshot)
    if (next === this.current) return
    const from = this.current
    this.current = next
    const to = topState(snapshot.value)
    if (to === "starting") this.launched = true
    if (to === "starting" && from !== "stopped" && from !== "crashed") this.restarts++
    this.env.bus.publish({
      type: "transition",
      unit: this.spec.id,
      instance: this.index,
      from,
      to: next,
      reason: snapshot.context.reason,
      pid: this.handle?.pid,
    })
    for (const listener of this.listeners) listener(this, from, next)
  }

  private spawn(): Effect.Effect<{ pid?: number }, unknown> {
    return Effect.gen({ self: this }, function* () {
      const driver = this.env.drivers.get(driverName(this.spec))
      if (!driver) {
        return yield* Effect.fail(
          new Error(`no driver for runtime "${driverName(this.spec)}" (not available in this SAM)`),
        )
      }
      if (this.port === undefined) this.port = yield* Effect.promise(() => this.assignPort())
      yield* this.closeScope() // a previous incarnation's scope, if its exit was not a stop
      const scope = yield* Scope.make()
      this.scope = scope
      const handle = yield* driver
        .start({
          spec: this.spec,
          instance: this.index,
          port: this.port,
          dependencyUrls: this.dependencyUrls(),
          log: (s, l) => this.onLog(s, l),
          event: (type, fields) =>
            this.env.bus.publish({ ...fields, type, unit: this.spec.id, instance: this.index }),
        })
        .pipe(
          Scope.provide(scope),
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit))),
        )
      this.handle = handle
      this.startedAt = Date.now()
      yield* Effect.forkIn(this.watchExit(handle), scope)
      const router = this.env.capabilities
      for (const [capability, provider] of handle.capabilities ?? []) {
        if (!router) break
        const withdraw = router.register(capability, {
          ...provider,
          id: provider.id || this.key,
          // Routed to only while this incarnation is live and ready (skips suspended/unready).
          available: () =>
            this.handle === handle &&
            this.state === "running" &&
            this.ready &&
            (provider.available?.() ?? true),
        })
        yield* Scope.addFinalizer(scope, Effect.sync(withdraw))
      }
      if (handle.facts) {
        const unsubscribe = handle.facts((fact) => {
          if (this.handle === handle) this.actor.send(fact)
        })
        yield* Scope.addFinalizer(scope, Effect.sync(unsubscribe))
      }
      return handle.pid === undefined ? {} : { pid: handle.pid }
    })
  }

  private watchExit(handle: InstanceHandle): Effect.Effect<void> {
    return Effect.flatMap(handle.exited, (exit) =>
      Effect.sync(() => {
        // Only the live incarnation reports; a stop already cleared `handle`.
        if (this.handle !== handle) return
        this.handle = undefined
        this.actor.send({ type: "EXITED", code: exit.code, signal: exit.signal })
      }),
    )
  }

  private stopProcess(options: StopOptions | undefined): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      if (this.probesDone) yield* Fiber.await(this.probesDone)
      const handle = this.handle
      this.handle = undefined
      if (handle) {
        const forced = options?.graceful === false
        yield* handle.stop({
          signal: forced ? "SIGKILL" : this.spec.stop.signal,
          graceMs: forced ? 0 : (options?.timeoutMs ?? this.spec.stop.graceMs),
        })
      }
      yield* this.closeScope()
    })
  }

  private closeScope(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const scope = this.scope
      this.scope = undefined
      return scope ? Scope.close(scope, Exit.void) : Effect.void
    })
  }

  private watch(sendBack: (event: LifecycleEvent) => void): () => void {
    const target = (): ProbeTarget => ({
      unit: this.spec.id,
      instance: this.index,
      host: "127.0.0.1",
      port: this.handle?.port ?? this.port,
      url: this.handle?.url,
      pid: this.handle?.pid,
    })
    const run = () =>
      Effect.runFork(
        monitorHealth(this.spec.probes, this.env.probes, target, {
          onRecord: (record) => this.onHealth(record),
          onReady: (detail) => sendBack({ type: "PROBE_PASSED", detail }),
          onUnready: (detail) => sendBack({ type: "PROBE_FAILED", detail }),
          onLivenessFailed: (detail) => sendBack({ type: "LIVENESS_FAILED", detail }),
        }),
      )
    let fiber = run()
    this.restartProbes = () => {
      Effect.runFork(Fiber.interrupt(fiber))
      fiber = run()
    }
    return () => {
      this.restartProbes = undefined
      // XState cleanups are synchronous: start the interruption here, and let a stop wait for
      // it (probesDone) so no probe socket outlives the instance.
      this.probesDone = Effect.runFork(Fiber.interrupt(fiber))
    }
  }

  private onHealth(record: HealthRecord): void {
    this.health.push(record)
    if (this.health.length > historySize) this.health.shift()
    if (record.ok !== this.lastHealthOk) {
      this.lastHealthOk = record.ok
      this.env.bus.publish({
        type: "health",
        unit: this.spec.id,
        instance: this.index,
        ok: record.ok,
        probe: record.probe,
        detail: record.detail,
      })
    }
  }

  private onLog(stream: "stdout" | "stderr", line: string): void {
    this.logs.push(`${stream === "stderr" ? "E" : "O"} ${line}`)
    if (this.logs.length > this.env.maxLogLines) this.logs.shift()
    this.env.bus.publish(
      { type: "log", unit: this.spec.id, instance: this.index, stream, line },
      { keep: false },
    )
  }

  private dependencyUrls(): Record<string, string> {
    const urls: Record<string, string> = {}
    for (const id of this.spec.dependsOn) {
      const url = this.env.urlOf?.(id)
      if (url) urls[id] = url
    }
    return urls
  }

  get url(): string | undefined {
    return this.handle?.url
  }

  private async assignPort(): Promise<number | undefined> {
    // Agents talk over IPC (or run inline), never on a port of their own.
    if (this.spec.runtime === "external" || this.spec.kind === "agent") return undefined
    const fixed = this.spec.process?.port
    if (fixed !== undefined) return fixed + this.index
    if (this.spec.runtime === "container" && this.spec.container?.ports.length) return undefined
    return freePort()
  }
}

/** Agents run on `agent:<runtime>` drivers (an agent's "process" is not a service's "process"). */
export const driverName = (spec: UnitSpec): string =>
  spec.kind === "agent" ? `agent:${spec.runtime}` : spec.runtime

const commandEvent = (command: CommandName, options: StopOptions & { reason?: string }): LifecycleEvent => {
  const reason = options.reason === undefined ? {} : { reason: options.reason }
  switch (command) {
    case "start":
      return { type: "START", ...reason }
    case "stop":
      return {
        type: "STOP",
        ...reason,
        ...(options.graceful === undefined ? {} : { graceful: options.graceful }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      }
    case "restart":
      return { type: "RESTART", ...reason }
    case "suspend":
      return { type: "SUSPEND", ...reason }
    case "resume":
      return { type: "RESUME", ...reason }
  }
}
