// One instance of a unit: its lifecycle actor, the driver that does the work, and the Effect
// scope that owns the live incarnation. The machine decides; this runner is the work its state
// actors do (lifecycleRuntime.ts: spawn, watch health, stop) and turns driver facts into events.
// It never decides about restarts (the supervisor does) and never serves HTTP.
import { Clock, Data, Deferred, Duration, Effect, Exit, Fiber, Scope } from "effect"
import type { SnapshotFrom } from "xstate"
import { type lifecycleMachine, publicState } from "../../actors/lifecycle.machine.ts"
import type {
  CommandName,
  ExitInfo,
  LifecycleEvent,
  LifecycleState,
  PublicState,
  StopInput,
  StopOptions,
  StopOutcome,
} from "../../actors/lifecycleTypes.ts"
import { delayText, withDelay } from "../delayText.ts"
import type { DriverFact, InstanceHandle } from "../drivers/driver.ts"
import { activeProbes, checksReadiness, monitorHealth } from "../health/healthMonitor.ts"
import { agentSetupDone, noReadinessCheck } from "../health/noReadinessCheck.ts"
import type { HealthRecord, ProbeTarget } from "../health/probe.ts"
import { type AgentLogLevel, agentLogLine, keptAt } from "../logs/agentLogEntry.ts"
import { dyingWords } from "../output/dyingWords.ts"
import { cutLine } from "../output/lineSplitter.ts"
import { LogMatches } from "../output/logMatches.ts"
import { type OutputLine, RecentLines } from "../output/recentLines.ts"
import { instanceKey, type UnitSpec } from "../unitSpec.ts"
import { CommandRefused, commandEvent } from "./commandEvent.ts"
import { type InstanceStatus, stateName } from "./instanceStatus.ts"
import { type InstanceUsage, nextUsage, overMemoryLimit } from "./instanceUsage.ts"
import { createLifecycleActor, type LifecycleActor } from "./lifecycleRuntime.ts"
import type { ForkIn, LifecycleWork } from "./lifecycleWork.ts"
import type { RunnerEnvironment, TransitionListener } from "./runnerEnvironment.ts"

/** How long after its spawn an instance is first measured (its program loading). */
const firstSampleDelayMs = 300

export class SpawnFailed extends Data.TaggedError("SpawnFailed")<{
  readonly unit: string
  readonly message: string
  /** "setup": its own code ran and failed before it was ready (the lifecycle's failure). */
  readonly failure?: "setup"
}> {}

const historySize = 100

type Snapshot = SnapshotFrom<typeof lifecycleMachine>

export class InstanceRunner implements LifecycleWork {
  spec: UnitSpec
  readonly index: number
  readonly health: HealthRecord[] = []
  readonly output: RecentLines
  /** Times this instance was started again after it had been running. */
  restarts = 0
  /**
   * Its next start is a restart although it passes through stopped: a restart whose dependencies
   * were down stops it, brings them up, then starts it (supervisor.ts), and counts as one.
   */
  restartPending = false
  /** The next start replaces it for a config change: not counted in `restarts` (rollout.ts). */
  uncountedRestart = false
  startedAt: number | undefined
  /**
   * When the current incarnation's spawn began: its output lines are from then on (an agent's
   * setup logs before `startedAt`, which is when the driver had it running).
   */
  spawnedAt = 0
  /** Whether it was ever asked to start (a stopped instance that never was is not "settled"). */
  launched = false
  port: number | undefined
  nextAttemptAt: number | undefined
  /** The last usage sample of the current or last incarnation. */
  lastUsage: InstanceUsage | undefined
  /** Being scaled away: no new traffic, stopped once drained. */
  draining = false
  /** Stopped because its process ended (not by a stop): a config change runs it again. */
  endedItself = false
  /** The pid of the process being stopped (its handle is already let go of). */
  private stoppingPid: number | undefined
  /** The dependencies' addresses its current incarnation was given (SAM_<ID>_URL), by unit. */
  givenUrls: Readonly<Record<string, string>> = noDependencyUrls

  private readonly env: RunnerEnvironment
  private readonly actor: LifecycleActor
  private handle: InstanceHandle | undefined
  private scope: Scope.Closeable | undefined
  private current: string
  private view: PublicState
  /** Made by the first `onTransition` (most instances have none but the supervisor's, in env). */
  private listeners: Set<TransitionListener> | undefined
  private lastHealthOk: boolean | undefined
  /** While `running`: where its health watch sends PROBE_* (undefined: not watching). */
  private watching: ((event: LifecycleEvent) => void) | undefined
  /** What this incarnation's output matched, for log checks (made by the first one). */
  private logMatches: LogMatches | undefined
  private probes: Fiber.Fiber<void> | undefined
  /** The incarnation ended by itself before a kill for a limit could stop it (its exit is its own). */
  private endedBeforeStop = false
  /** Completed when the stop in progress must SIGKILL now (the machine's `escalate`). */
  forced: Deferred.Deferred<void> | undefined

  constructor(spec: UnitSpec, index: number, env: RunnerEnvironment) {
    this.spec = spec
    this.index = index
    this.env = env
    this.output = new RecentLines(env.recentLines.lines, env.recentLines.bytes)
    this.actor = createLifecycleActor(this.key, this)
    this.view = publicState(this.actor.getSnapshot().value)
    this.current = stateName(this.view)
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot))
    this.actor.start()
  }

  /** Where its lifecycle actor's state actors run (LifecycleWork). */
  get fork(): ForkIn {
    return this.env.fork
  }

  get key(): string {
    return instanceKey(this.spec, this.index)
  }

  get state(): LifecycleState {
    return this.view.state
  }

  get ready(): boolean {
    return this.view.readiness === "ready"
  }

  /** The finer state: readiness, why it is stopping, whether a crashed unit retries. */
  get detail(): PublicState {
    return this.view
  }

  get pid(): number | undefined {
    return this.handle?.pid
  }

  get url(): string | undefined {
    return this.handle?.url
  }

  get context() {
    return this.actor.getSnapshot().context
  }

  /** Its reason and, waiting for another attempt, when that is due: "…; restart in 0.6s". */
  reasonNow(now: number): string {
    const { reason } = this.context
    const due = this.state === "backoff" || this.view.retrying ? this.nextAttemptAt : undefined
    if (due === undefined) return reason
    return withDelay(reason, this.view.retrying ? "retrying" : "restart", Math.max(0, due - now))
  }

  onTransition(listener: TransitionListener): () => void {
    const listeners = this.listeners ?? new Set()
    this.listeners = listeners
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      // Dropped once empty: every instance is waited on at start, few are afterwards.
      if (listeners.size === 0 && this.listeners === listeners) this.listeners = undefined
    }
  }

  /** Send a fact, system event or supervisor decision; ignored when it does not apply. */
  send(event: LifecycleEvent): void {
    this.actor.send(event)
  }

  /** Whether `event` changes anything in the current state. */
  accepts(event: LifecycleEvent): boolean {
    return this.actor.getSnapshot().can(event)
  }

  /** An operator command; refused (never thrown at the machine) when the state does not allow it. */
  command(
    command: CommandName,
    options: StopOptions & { reason?: string | undefined } = {},
  ): Effect.Effect<void, CommandRefused> {
    return Effect.gen({ self: this }, function* () {
      const event = commandEvent(command, options)
      if (!this.accepts(event)) {
        return yield* new CommandRefused({
          unit: this.key,
          command,
          state: this.state,
          message: `cannot ${command} "${this.key}": it is ${this.state}`,
        })
      }
      // Suspension acts on the process before the machine records it.
      if (command === "suspend" && this.handle) yield* this.handle.suspend
      if (command === "resume" && this.handle) yield* this.handle.resume
      this.actor.send(event)
    })
  }

  /** Completes once `predicate` holds (checked now and on every transition); interruptible. */
  until(predicate: (runner: InstanceRunner) => boolean): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (predicate(this)) {
        resume(Effect.void)
        return
      }
      const off = this.onTransition(() => {
        if (predicate(this)) {
          off()
          resume(Effect.void)
        }
      })
      return Effect.sync(off)
    })
  }

  status(now: number): InstanceStatus {
    const snapshot = this.actor.getSnapshot()
    const live = this.state === "running" || this.state === "suspended"
    return {
      unit: this.spec.id,
      instance: this.index,
      state: this.state,
      ready: this.ready,
      pid: this.handle?.pid ?? this.stoppingPid,
      port: this.port ?? this.handle?.port,
      url: this.handle?.url,
      restarts: this.restarts,
      uptimeMs: live && this.startedAt !== undefined ? Math.max(0, now - this.startedAt) : 0,
      startedAt: live ? this.startedAt : undefined,
      reason: snapshot.context.reason,
      lastExit: snapshot.context.lastExit,
      lastHealth: this.health.at(-1),
      nextAttemptAt: this.state === "backoff" || this.view.retrying ? this.nextAttemptAt : undefined,
      lastUsage: this.lastUsage,
      draining: this.draining,
      // An agent is ready when it says so, after its setup: that is a check, probes or not.
      readinessChecked: this.spec.kind === "agent" || checksReadiness(this.spec.probes, this.env.probes),
    }
  }

  /**
   * Take a changed spec that needs no restart (health checks, restart policy, stop settings).
   * A running instance's probes restart with the new settings; its process is untouched.
   */
  reconfigure(spec: UnitSpec): void {
    this.spec = spec
    if (this.watching) this.beginProbes()
  }

  /** The machine's JSON-serializable snapshot (state, context) for persistence and debugging. */
  persistedSnapshot(): unknown {
    return this.actor.getPersistedSnapshot()
  }

  /** Stop the actor after making sure nothing of the instance is left running. */
  dispose(): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      yield* this.stopProcess({ id: this.key, force: true, timeoutMs: 0 })
      this.actor.stop()
      this.listeners?.clear()
    })
  }

  private onSnapshot(snapshot: Snapshot): void {
    const view = publicState(snapshot.value)
    const next = stateName(view)
    if (
      next === this.current &&
      view.stopIntent === this.view.stopIntent &&
      view.retrying === this.view.retrying
    ) {
      this.view = view
      return
    }
    const from = this.current
    this.view = view
    this.current = next
    if (next === from) return
    if (view.state === "starting") {
      if (this.launched && (from !== "stopped" || this.restartPending) && !this.uncountedRestart)
        this.restarts++
      this.restartPending = false
      this.uncountedRestart = false
      this.launched = true
    }
    // Stopped straight from `error`: it ended by itself (a clean exit, a temporary unit's failure).
    if (view.state === "stopped") this.endedItself = from === "error"
    const now = Date.now()
    if (view.state === "backoff" || view.retrying) this.nextAttemptAt = now + snapshot.context.delayMs
    this.env.publish({
      type: "transition",
      unit: this.spec.id,
      instance: this.index,
      from,
      to: next,
      reason: this.reasonNow(now),
      pid: this.handle?.pid,
    })
    this.env.onTransition?.(this, from, next)
    if (this.listeners) for (const listener of this.listeners) listener(this, from, next)
  }

  /** LifecycleWork: start an incarnation (the machine's `starting`). */
  spawn(): Effect.Effect<{ pid?: number }, SpawnFailed> {
    return Effect.gen({ self: this }, function* () {
      const driver = this.env.drivers.get(driverName(this.spec))
      if (!driver) {
        return yield* new SpawnFailed({
          unit: this.key,
          message: `no driver for runtime "${driverName(this.spec)}" (not available in this SAM)`,
        })
      }
      this.port = yield* this.env
        .portFor(this)
        .pipe(Effect.mapError((error) => new SpawnFailed({ unit: this.key, message: error.message })))
      yield* this.closeScope() // a previous incarnation's scope, if its exit was not a stop
      this.spawnedAt = Date.now()
      // Not started until the driver has it running: a failure before that has no uptime.
      this.startedAt = undefined
      this.logMatches?.reset(this.spawnedAt)
      const scope = yield* Scope.make()
      this.scope = scope
      this.givenUrls = this.dependencyUrls()
      const handle = yield* driver
        .start({
          spec: this.spec,
          instance: this.index,
          port: this.port,
          dependencyUrls: this.givenUrls,
          ...(this.env.variablesFor === undefined ? {} : { variables: this.env.variablesFor(this.spec) }),
          ...(this.env.containment === undefined ? {} : { containment: this.env.containment }),
          maxLineBytes: this.env.maxLineBytes,
          log: (stream, line) => this.onLine(stream, line),
          logEntry: (level, text) => this.onLogEntry(level, text),
          event: (type, fields) =>
            this.env.publish({ ...fields, type, unit: this.spec.id, instance: this.index }),
        })
        .pipe(
          Scope.provide(scope),
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit))),
          Effect.mapError(
            (error) =>
              new SpawnFailed({
                unit: this.key,
                message: error.message,
                ...(error.failure === undefined ? {} : { failure: error.failure }),
              }),
          ),
        )
      this.handle = handle
      this.startedAt = yield* Clock.currentTimeMillis
      this.lastUsage = undefined
      this.endedBeforeStop = false
      if (handle.exited) yield* Effect.forkIn(this.watchExit(handle, handle.exited), scope)
      const usage = handle.usage
      if (usage) yield* Effect.forkIn(this.sampleUsage(handle, usage), scope)
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
          if (this.handle !== handle) return
          if (fact.type === "RESOURCE_EXCEEDED") this.overLimit(fact, usage)
          this.actor.send(fact)
        })
        yield* Scope.addFinalizer(scope, Effect.sync(unsubscribe))
      }
      return handle.pid === undefined ? {} : { pid: handle.pid }
    })
  }

  /** Measure the tree now and then while this incarnation is live; CPU % over each interval. */
  private sampleUsage(
    handle: InstanceHandle,
    usage: () => { readonly rssBytes: number; readonly cpuSeconds: number },
  ): Effect.Effect<void> {
    const interval = this.env.usageIntervalMs ?? 2_000
    return Effect.gen({ self: this }, function* () {
      // Not at the spawn itself: a tree measured before its program has loaded says "412 KiB".
      yield* Effect.sleep(Math.min(interval, firstSampleDelayMs))
      for (;;) {
        if (this.handle !== handle) return
        const now = yield* Clock.currentTimeMillis
        const { rssBytes, cpuSeconds } = usage()
        this.lastUsage = nextUsage(this.lastUsage, now, rssBytes, cpuSeconds)
        const over = overMemoryLimit(rssBytes, this.spec.maxMemoryMb)
        if (over !== undefined && this.handle === handle) {
          if (this.lastUsage) this.lastUsage = { ...this.lastUsage, overLimit: "memory" }
          // Stopped (its stop signal and grace) and answered as a failure, as PM2's max_memory_restart.
          this.actor.send({ type: "RESOURCE_EXCEEDED", resource: "memory", detail: over })
          return
        }
        yield* Effect.sleep(interval)
      }
    })
  }

  /**
   * A driver's limit fact: its reading becomes the instance's usage (what the crash report quotes,
   * not the last periodic sample), and an instance that ended by itself is not said to be stopped.
   */
  private overLimit(
    fact: Extract<DriverFact, { type: "RESOURCE_EXCEEDED" }>,
    usage: InstanceHandle["usage"],
  ): void {
    if (fact.exited) this.endedBeforeStop = true
    if (fact.bytes === undefined) return
    const cpuSeconds = usage?.().cpuSeconds ?? this.lastUsage?.cpuSeconds ?? 0
    const reading = nextUsage(this.lastUsage, Date.now(), fact.bytes, cpuSeconds)
    if (reading) this.lastUsage = { ...reading, overLimit: fact.resource }
  }

  private watchExit(handle: InstanceHandle, exited: Effect.Effect<ExitInfo>): Effect.Effect<void> {
    return Effect.flatMap(exited, (exit) =>
      Effect.sync(() => {
        // Only the live incarnation reports; a stop already cleared `handle`.
        if (this.handle !== handle) return
        this.handle = undefined
        // Quote what it last said on stderr in this incarnation: the reason it died, usually.
        const lastLine =
          this.startedAt === undefined ? undefined : dyingWords(this.output.last(), this.startedAt)
        this.actor.send({
          type: "EXITED",
          code: exit.code,
          signal: exit.signal,
          ...(lastLine === undefined ? {} : { lastLine: quoteLine(lastLine) }),
        })
      }),
    )
  }

  /**
   * Signal, grace period, SIGKILL; a forced stop (now or later, via `escalate`) skips the grace.
   * Succeeds with the exit, the signal SAM sent, and what to say when the grace ran out and
   * SIGKILL ended it, as Compose does not.
   */
  stopProcess(input: StopInput): Effect.Effect<StopOutcome> {
    return Effect.gen({ self: this }, function* () {
      const forced = yield* Deferred.make<void>()
      this.forced = forced
      if (input.force) yield* Deferred.succeed(forced, undefined)
      // No probe may outlive the incarnation (a socket to a port a restart will reuse).
      if (this.probes) yield* Fiber.interrupt(this.probes)
      const handle = this.handle
      this.handle = undefined
      // Still shown while it stops (`sam ps`): the process is alive until the stop is done.
      this.stoppingPid = handle?.pid
      let stopped: StopOutcome = {}
      if (handle) {
        const graceMs = input.timeoutMs ?? this.spec.stop.graceMs
        // Requests in flight finish before the signal (a stop or restart, not a failure or SAM's
        // shutdown), as a scale down's do (one scaled away was drained already): bounded by the
        // grace period, cut short by a forced stop.
        const drain = this.env.drain
        if (
          drain !== undefined &&
          !input.force &&
          !this.draining &&
          drainsBeforeStop(this.actor.getSnapshot().value)
        )
          yield* Effect.raceFirst(
            drain(this.spec.id, this.index).pipe(Effect.timeoutOption(Duration.millis(graceMs))),
            Deferred.await(forced),
          )
        const { signal } = this.spec.stop
        const kill = handle.stop({ signal: "SIGKILL", graceMs: 0 })
        const exit = yield* Effect.raceFirst(
          handle.stop({ signal, graceMs }),
          Effect.andThen(Deferred.await(forced), kill),
        )
        const wasForced = yield* Deferred.isDone(forced)
        stopped = {
          exit,
          // What SAM sent, unless it had ended by itself already (a V8 heap limit's abort).
          ...(this.endedBeforeStop ? {} : { sent: wasForced ? "SIGKILL" : signal }),
          ...(exit.signal === "SIGKILL" && signal !== "SIGKILL" && !wasForced
            ? { killed: `SIGKILLed: it did not exit within its ${delayText(graceMs)} grace after ${signal}` }
            : {}),
        }
      }
      yield* this.closeScope()
      if (this.forced === forced) this.forced = undefined
      return stopped
    }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          this.stoppingPid = undefined
        }),
      ),
    )
  }

  private closeScope(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const scope = this.scope
      this.scope = undefined
      return scope ? Scope.close(scope, Exit.void) : Effect.void
    })
  }

  /** The health watch of `running`: its probes, or ready at once; the returned stop ends it. */
  watch(sendBack: (event: LifecycleEvent) => void): () => void {
    this.watching = sendBack
    this.beginProbes()
    // Until the state is left; then the probes stop before the stop actor proceeds.
    return () => {
      if (this.watching !== sendBack) return
      this.watching = undefined
      // Kept: the stop awaits its end (no probe may outlive the incarnation).
      this.probes?.interruptUnsafe()
    }
  }

  /** Why an instance with no readiness probe is ready: nothing checked, or an agent's setup done. */
  private readyWithoutProbe(): string {
    return this.spec.kind === "agent" ? agentSetupDone : noReadinessCheck
  }

  /** (Re)start the probes of the watch in progress, with the spec as it is now. */
  private beginProbes(): void {
    const sendBack = this.watching
    if (!sendBack) return
    this.probes?.interruptUnsafe()
    this.probes = undefined
    // A new incarnation's checks start unknown: its first failures (not listening yet) are no news.
    this.lastHealthOk = undefined
    // Without a probe to run, ready at once and no fiber of its own: one less per inline agent.
    if (activeProbes(this.spec.probes, this.env.probes).length === 0) {
      sendBack({ type: "PROBE_PASSED", detail: this.readyWithoutProbe() })
      return
    }
    this.probes = this.env.fork(
      monitorHealth(this.spec.probes, this.env.probes, () => this.probeTarget(), {
        onRecord: (record) => this.onHealth(record),
        onReady: (detail) =>
          sendBack({
            type: "PROBE_PASSED",
            detail: detail === noReadinessCheck ? this.readyWithoutProbe() : detail,
          }),
        onUnready: (detail) => sendBack({ type: "PROBE_FAILED", detail }),
        onLivenessFailed: (detail) => sendBack({ type: "LIVENESS_FAILED", detail }),
      }),
    )
  }

  private probeTarget(): ProbeTarget {
    return {
      unit: this.spec.id,
      instance: this.index,
      host: "127.0.0.1",
      port: this.handle?.port ?? this.port,
      url: this.handle?.url,
      pid: this.handle?.pid,
      logged: (pattern) => {
        // Made on the first log check: an instance without one tests no line.
        this.logMatches ??= new LogMatches(() => this.output.last(), this.spawnedAt)
        return this.logMatches.matched(pattern)
      },
    }
  }

  private onHealth(record: HealthRecord): void {
    this.health.push(record)
    if (this.health.length > historySize) this.health.shift()
    this.env.onProbe?.(this, record)
    // A change: ok after failing, failing after ok; failing before a first pass is booting, told
    // by the lifecycle (running.unready, then a crash or a restart if it never passes).
    if (record.ok !== this.lastHealthOk && (record.ok || this.lastHealthOk !== undefined)) {
      this.lastHealthOk = record.ok
      this.env.publish({
        type: "health",
        unit: this.spec.id,
        instance: this.index,
        ok: record.ok,
        probe: record.probe,
        detail: record.detail,
      })
    }
  }

  /** An agent's logger entry: dropped below the log level in effect, else a line with its level. */
  private onLogEntry(level: AgentLogLevel, text: string): void {
    if (!keptAt(level, this.spec.agent?.logLevel ?? this.env.logLevel?.() ?? "info")) return
    const { stream, line } = agentLogLine(level, text)
    this.onLine(stream, line, level)
  }

  private onLine(stream: "stdout" | "stderr", whole: string, level?: AgentLogLevel): void {
    // A process's lines are cut by its splitter already; an agent's log entry arrives whole.
    const line = cutLine(whole, this.env.maxLineBytes)
    const entry: OutputLine =
      level === undefined ? { time: Date.now(), stream, line } : { time: Date.now(), stream, line, level }
    this.output.push(entry)
    this.logMatches?.line(line)
    this.env.output?.(this, entry)
  }

  private dependencyUrls(): Readonly<Record<string, string>> {
    if (this.spec.dependsOn.length === 0) return noDependencyUrls
    const urls: Record<string, string> = {}
    for (const id of this.spec.dependsOn) {
      const url = this.env.urlOf(id)
      if (url) urls[id] = url
    }
    return urls
  }
}

/** Whether a stop with this intent drains the instance first: an operator's stop or restart (a rollout's, a watch's). */
const drainsBeforeStop = (value: Snapshot["value"]): boolean => {
  const intent = publicState(value).stopIntent
  return intent === "toStopped" || intent === "toRestart"
}

/** What a driver is given for a unit without dependencies (one object for all of them). */
const noDependencyUrls: Readonly<Record<string, string>> = Object.freeze({})

/** A line fit for a one-line reason: trimmed, and cut at 300 characters. */
const quoteLine = (line: string): string => {
  const trimmed = line.trim()
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed
}

/** Agents run on `agent:<runtime>` drivers (an agent's "process" is not a service's "process"). */
export const driverName = (spec: UnitSpec): string =>
  spec.kind === "agent" ? `agent:${spec.runtime}` : spec.runtime
