// The supervision tree: root → groups (strategy + restart intensity) → unit instances. It answers
// every instance that enters `error` with the pure decide() (restart after backoff, retry while
// crashed, give up, stand down, shut the group down), applies the group strategy to siblings,
// orders starts and stops by `depends_on`, restarts dependents when a dependency restarts, keeps
// each instance's port stable, restarts units whose watched files change, and bounds SAM's
// shutdown. It runs as fibers under SAM's scope (a FiberSet for state work, a FiberMap of pending
// unit starts, a FiberMap of file watchers); time comes from Effect's Clock. This class holds the
// state and coordinates; each concern's work is a module given the part of it that it needs
// (failureAnswer, dependencies, startAll, operatorCommand, scaling, rollout, watchedFiles, cronRestarts, shutdown).
import {
  Clock,
  Deferred,
  Effect,
  Exit,
  Fiber,
  FiberMap,
  FiberSet,
  Random,
  Result,
  type Scope,
  type Semaphore,
} from "effect"
import type { CommandName } from "../../actors/lifecycleTypes.ts"
import { dependentsOf, startOrder } from "../../graph/dependencyGraph.ts"
import { changedFields, inPlaceFields } from "../configDiff.ts"
import { maxInstancesOf, type UnitSpec } from "../unitSpec.ts"
import type { CommandRefused } from "./commandEvent.ts"
import {
  type CommandOptions,
  type DesiredIntent,
  type SamStopping,
  type ScaleOptions,
  type ScaleRefused,
  type StartReport,
  type SupervisorOptions,
  UnitNotFound,
} from "./contracts.ts"
import { type CronContext, cronKey, rescheduleCron, scheduleCron } from "./cronRestarts.ts"
import {
  addressOf,
  type DependencyContext,
  pendingText,
  restartDependentsWhenReady,
  startWhenAvailable,
} from "./dependencies.ts"
import { answerFailure, type FailureContext } from "./failureAnswer.ts"
import { InstanceMemory } from "./instanceMemory.ts"
import { InstanceRunner } from "./instanceRunner.ts"
import type { ForkIn } from "./lifecycleWork.ts"
import { type CommandContext, commandSlackMs, runCommand } from "./operatorCommand.ts"
import { rollOut, rolloutKey, rolls } from "./rollout.ts"
import type { RunnerEnvironment } from "./runnerEnvironment.ts"
import { type ScalingContext, scale } from "./scaling.ts"
import { type ShutdownContext, shutdownUnits, stopRunners } from "./shutdown.ts"
import { type StartAllContext, startAll } from "./startAll.ts"
import type { GroupSpec } from "./supervisionGroup.ts"
import { type GroupView, SupervisionGroups } from "./supervisionGroups.ts"
import type { Unit } from "./unit.ts"
import { type UnitStatus, unitStatusOf } from "./unitStatus.ts"
import { rewatchFiles, type WatchContext, watchFiles } from "./watchedFiles.ts"

export * from "./contracts.ts"
export type { GroupSpec, Strategy } from "./supervisionGroup.ts"
export type { UnitStatus } from "./unitStatus.ts"

/** What the supervisor's modules are given of it: each declares the part it uses. */
type SupervisorContext = ShutdownContext &
  ScalingContext &
  DependencyContext &
  CommandContext &
  StartAllContext &
  WatchContext &
  CronContext &
  FailureContext

export class Supervisor {
  private readonly units = new Map<string, Unit>()
  private readonly groups: SupervisionGroups
  private readonly memory: InstanceMemory
  private readonly env: RunnerEnvironment
  private readonly options: SupervisorOptions
  private readonly starts: FiberMap.FiberMap<string>
  /** Done when a second stop request says: SIGKILL what is still stopping, now. */
  private readonly hurried = Deferred.makeUnsafe<void>()
  /** Each watched unit's file watcher, by unit id (config `watch`). */
  private readonly watches: FiberMap.FiberMap<string>
  private readonly clock: Clock.Clock
  private readonly random: Random.Random
  private order: ReadonlyArray<string> = []
  /** Reverse edges of depends_on, rebuilt with the order. */
  private dependents: ReadonlyMap<string, ReadonlyArray<string>> = new Map()
  private stopping = false
  /** Units whose start waits for a dependency (dependencies.ts), for the start report. */
  private readonly waiting = new Set<string>()
  /** Done at the next change of which runners exist (a unit added, removed or replaced, a scale). */
  private reshaped = Deferred.makeUnsafe<void>()
  /** One scale of a unit at a time (scaling.ts). */
  private readonly scaleLocks = new Map<string, Semaphore.Semaphore>()
  /** The supervisor as its modules see it: built once, each module typed with the part it uses. */
  private readonly context: SupervisorContext

  /** A supervisor whose fibers live in the current scope (closing it interrupts them all). */
  static make(
    specs: ReadonlyArray<UnitSpec>,
    groups: ReadonlyArray<GroupSpec>,
    options: SupervisorOptions,
  ): Effect.Effect<Supervisor, never, Scope.Scope> {
    return Effect.gen(function* () {
      const fork = (yield* FiberSet.makeRuntime<never>()) as ForkIn
      const starts = yield* FiberMap.make<string>()
      const watches = yield* FiberMap.make<string>()
      const watchIn = yield* FiberMap.runtime(watches)<never>()
      const clock = yield* Clock.Clock
      const random = yield* Random.Random
      return new Supervisor(specs, groups, options, { fork, starts, watches, watchIn, clock, random })
    })
  }

  private constructor(
    specs: ReadonlyArray<UnitSpec>,
    groups: ReadonlyArray<GroupSpec>,
    options: SupervisorOptions,
    runtime: {
      fork: ForkIn
      starts: FiberMap.FiberMap<string>
      watches: FiberMap.FiberMap<string>
      watchIn: (id: string, watching: Effect.Effect<void>) => Fiber.Fiber<void, unknown>
      clock: Clock.Clock
      random: Random.Random
    },
  ) {
    this.options = options
    this.groups = new SupervisionGroups(groups)
    this.memory = new InstanceMemory(
      options.memory,
      options.portRange,
      (runner, from, to) =>
        options.publish({
          type: "supervisor",
          action: "port-moved",
          unit: runner.spec.id,
          detail: `${runner.spec.id}#${runner.index}: its port ${from} was taken while it was down (by another program, or as the source port of an outgoing connection); it now listens on ${to}`,
        }),
      // An instance that is down holds nothing, whatever port it had.
      (port, runner) =>
        this.allRunners().find(
          (r) =>
            r !== runner &&
            r.port === port &&
            ["starting", "running", "suspended", "stopping"].includes(r.state),
        )?.key,
    )
    this.starts = runtime.starts
    this.watches = runtime.watches
    this.clock = runtime.clock
    this.random = runtime.random
    this.env = {
      fork: runtime.fork,
      drivers: options.drivers,
      probes: options.probes,
      ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities }),
      ...(options.containment === undefined ? {} : { containment: options.containment }),
      maxLineBytes: options.maxLineBytes ?? 64 * 1024,
      recentLines: options.recentLines ?? { lines: 200, bytes: 256 * 1024 },
      portFor: (runner) => this.memory.portFor(runner),
      // A dependent that waits only for its dependency to start (`condition: started`) gets the
      // address of its instance 0 while it is not ready yet: the one it will have once it is.
      urlOf: (id) => addressOf(this.units, id)?.url ?? this.units.get(id)?.runners[0]?.url,
      publish: options.publish,
      ...(options.output === undefined ? {} : { output: options.output }),
      ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
      ...(options.usageIntervalMs === undefined ? {} : { usageIntervalMs: options.usageIntervalMs }),
      ...(options.variablesFor === undefined ? {} : { variablesFor: options.variablesFor }),
      ...(options.onProbe === undefined ? {} : { onProbe: options.onProbe }),
      ...(options.drain === undefined ? {} : { drain: options.drain }),
      // One listener for every runner (a closure each was ~0.1 KB an instance).
      onTransition: (runner, from, to) => this.onTransition(runner, from, to),
    }
    this.context = {
      // What it holds.
      units: this.units,
      order: () => this.order,
      dependents: () => this.dependents,
      stopping: () => this.stopping,
      waiting: this.waiting,
      starts: runtime.starts,
      watches: runtime.watches,
      scaleLocks: this.scaleLocks,
      hurried: this.hurried,
      memory: options.memory,
      containment: options.containment,
      // What it answers.
      unit: (id) => this.unit(id),
      lookup: (id) => this.lookup(id),
      allRunners: () => this.allRunners(),
      heldBy: (id) => this.heldBy(id),
      status: (unit) => this.aggregate(unit),
      group: (name) => this.groups.named(name),
      members: (name) => this.members(name),
      windowOf: (r) => this.memory.windowOf(r),
      now: () => this.now(),
      random: () => this.random.nextDoubleUnsafe(),
      // What it does.
      publish: options.publish,
      fork: runtime.fork,
      watchIn: runtime.watchIn,
      runnerFor: (spec, index) => this.runnerFor(spec, index),
      startFiber: (id) => this.startFiber(id),
      startUnit: (id) => this.startUnit(id),
      scale: (id, count, options) => this.scale(id, count, options),
      setWindow: (r, window) => this.memory.setWindow(r, window),
      resetWindow: (r) => this.memory.resetWindow(r),
      clearGroupFailure: (name) => this.groups.clearFailure(name),
      runnersChanged: () => Deferred.await(this.reshaped),
      reshape: () => this.reshape(),
    }
    // One ordering for all units: reordering after each would be quadratic (10,000 agents).
    for (const spec of specs) this.insert(spec)
    this.reorder()
  }

  /** Wake whoever waits on the units' runners (a dependent's start): they look again. */
  private reshape(): void {
    const done = this.reshaped
    this.reshaped = Deferred.makeUnsafe<void>()
    Deferred.doneUnsafe(done, Exit.void)
  }

  private now(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  // ── the units ────────────────────────────────────────────────────────────────────────────────

  has(id: string): boolean {
    return this.units.has(id)
  }

  specs(): ReadonlyArray<UnitSpec> {
    return [...this.units.values()].map((u) => u.spec)
  }

  spec(id: string): UnitSpec | undefined {
    return this.units.get(id)?.spec
  }

  runners(id: string): ReadonlyArray<InstanceRunner> {
    return this.unit(id).runners
  }

  allRunners(): ReadonlyArray<InstanceRunner> {
    return [...this.units.values()].flatMap((u) => u.runners)
  }

  startOrder(): ReadonlyArray<string> {
    return this.order
  }

  get shuttingDown(): boolean {
    return this.stopping
  }

  status(id: string): UnitStatus {
    return this.aggregate(this.unit(id))
  }

  statuses(): ReadonlyArray<UnitStatus> {
    return this.order.map((id) => this.aggregate(this.unit(id)))
  }

  /** The groups' settings as configured (implicit groups included). */
  groupSpecs(): ReadonlyArray<GroupSpec> {
    return this.groups.specs()
  }

  groupStates(): ReadonlyArray<GroupView> {
    return this.groups.views((name) => this.members(name))
  }

  /** Add a unit (stopped). Used at construction and by config hot reload. */
  add(spec: UnitSpec): void {
    this.insert(spec)
    this.reorder()
  }

  /**
   * Stop and forget a unit; its ports are released unless `keepPorts`. `replacing`: its
   * replacement is added next, and whoever waits on the runners looks again only then (a look in
   * between would find the unit gone).
   */
  remove(
    id: string,
    options: { keepPorts?: boolean; reason?: string; replacing?: boolean } = {},
  ): Effect.Effect<void, UnitNotFound> {
    return Effect.gen({ self: this }, function* () {
      const unit = yield* this.lookup(id)
      yield* FiberMap.remove(this.starts, id)
      yield* FiberMap.remove(this.starts, rolloutKey(id))
      yield* FiberMap.remove(this.watches, id)
      yield* FiberMap.remove(this.watches, cronKey(id))
      yield* stopRunners(unit.runners, { type: "STOP", reason: options.reason ?? "removed from the config" })
      yield* Effect.forEach(unit.runners, (r) => r.dispose(), { discard: true })
      this.units.delete(id)
      if (!options.replacing) this.reshape()
      // A removed or replaced unit starts with fresh windows.
      for (const r of unit.runners) this.memory.resetWindow(r)
      if (!options.keepPorts) this.memory.forgetUnit(id)
      this.reorder()
    })
  }

  /**
   * A config change only a new process can honour: stop the unit, replace its spec, start it
   * again if it was active. Its port stays (unless the change fixes another), and dependents
   * with `dependency_restart: restart` restart once it is ready again.
   */
  replace(spec: UnitSpec): Effect.Effect<void, UnitNotFound> {
    return Effect.gen({ self: this }, function* () {
      const before = yield* this.lookup(spec.id)
      // Meant to run: live, failing or crashed (a fix in the config is how a crash loop ends),
      // waiting for its dependencies, or ended by itself (a job, run again with its new config as
      // `compose up` recreates a changed one-shot); what a stop stopped stays stopped.
      const wasActive =
        before.runners.some((r) => r.state !== "stopped" || r.endedItself) ||
        (yield* FiberMap.has(this.starts, spec.id))
      const portChanged =
        before.spec.process?.port !== spec.process?.port || before.spec.instances !== spec.instances
      if (!portChanged && !this.stopping && rolls(before, spec, this.options.memory))
        return yield* this.rollOut(before, spec)
      // The replacement's instances go on counting where these left off, as a rollout's do.
      const restarts = before.runners.map((r) => r.restarts)
      yield* this.remove(spec.id, {
        keepPorts: !portChanged,
        replacing: true,
        reason: "its config changed: restarting with the new one",
      })
      this.add(spec)
      const replaced = this.units.get(spec.id)
      if (replaced) {
        for (const r of replaced.runners) r.restarts = restarts[r.index] ?? 0
        if (before.retiredRestarts !== undefined) replaced.retiredRestarts = before.retiredRestarts
      }
      if (wasActive && !this.stopping) {
        restartDependentsWhenReady(this.context, spec.id)
        yield* this.startFiber(spec.id)
      }
    })
  }

  /** Take `spec` in place and restart the instances one at a time (in the background). */
  private rollOut(unit: Unit, spec: UnitSpec): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      yield* rewatchFiles(this.context, unit.spec, spec)
      yield* rescheduleCron(this.context, unit.spec, spec)
      this.takeSpec(unit, spec)
      this.reorder()
      const rolling = rollOut(spec, unit.runners, {
        publish: this.options.publish,
        resetWindow: (r) => this.memory.resetWindow(r),
        current: () => !this.stopping && this.units.get(spec.id) === unit && unit.spec === spec,
        turnMs: 2 * spec.stop.graceMs + commandSlackMs, // a drain, then the stop's grace
        halted: (detail) => {
          unit.rolloutHalted = detail
        },
      })
      yield* FiberMap.run(this.starts, rolloutKey(spec.id), rolling)
    })
  }

  /**
   * Take new group settings (strategy, intensity) without touching running units: a changed
   * intensity starts a fresh window, a new group starts empty, a group no unit uses is kept.
   */
  configureGroups(groups: ReadonlyArray<GroupSpec>): void {
    this.groups.configure(groups)
    this.reorder()
  }

  /**
   * Apply a changed spec in place (no restart): see InstanceRunner.reconfigure; windows reset; a
   * changed `watch` closes the unit's watcher (and opens the new one).
   */
  reconfigure(spec: UnitSpec): Effect.Effect<void, UnitNotFound> {
    return Effect.gen({ self: this }, function* () {
      const unit = yield* this.lookup(spec.id)
      yield* rewatchFiles(this.context, unit.spec, spec)
      yield* rescheduleCron(this.context, unit.spec, spec)
      for (const runner of unit.runners) {
        runner.reconfigure(spec)
        this.memory.resetWindow(runner)
      }
      // The same Unit: a start waiting for dependencies or a scale in progress holds it.
      this.takeSpec(unit, spec)
      this.reorder()
    })
  }

  /**
   * A config change of the instance count (configDiff's `scaled`): take `spec` in place (with
   * the in-place fields that changed with it) and answer the count to scale to, whether the
   * instances a scale up adds start, and whether to scale at all. The config's count wins when
   * it changed (`min_instances`), over an operator's kept scale too (which it clears); a change of
   * `max_instances` alone keeps the count that runs (an operator's kept scale with it), down to
   * the new maximum. Added instances start unless the unit is stopped and not one with no
   * instances (an operator's stop the change ends is started by Sam.apply).
   */
  takeCount(spec: UnitSpec): Effect.Effect<{ count: number; start: boolean; scale: boolean }, UnitNotFound> {
    return Effect.gen({ self: this }, function* () {
      const unit = yield* this.lookup(spec.id)
      const before = unit.spec
      // Read with the spec the stop was made for: the new one no longer matches its record.
      const held = this.heldBy(spec.id) !== undefined
      const inPlace = changedFields(before, spec).some((f) => inPlaceFields.includes(f))
      yield* rewatchFiles(this.context, before, spec)
      yield* rescheduleCron(this.context, before, spec)
      for (const runner of unit.runners) {
        if (!inPlace) {
          runner.spec = spec
          continue
        }
        runner.reconfigure(spec)
        this.memory.resetWindow(runner)
      }
      this.takeSpec(unit, spec)
      this.reorder()
      const current = unit.runners.length
      // The config's own count changed: it wins, an operator's kept scale included. Else (only
      // max_instances) what runs stays, an operator's scale too, down to the new maximum.
      const own = before.instances !== spec.instances
      const count = own ? spec.instances : Math.min(current, maxInstancesOf(spec))
      const active =
        unit.runners.some((r) => r.state !== "stopped" || r.endedItself) ||
        (yield* FiberMap.has(this.starts, spec.id))
      return { count, start: !held && (active || current === 0), scale: own || count !== current }
    })
  }

  // ── starting ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Start the given units (default: all) in dependency order; completes when each is ready or
   * settled, or at the timeout, with who is ready.
   */
  startAll(timeoutMs = 60_000, ids: ReadonlyArray<string> = this.order): Effect.Effect<StartReport> {
    return startAll(this.context, timeoutMs, ids)
  }

  /** Start one unit after its dependencies (started as needed) are ready. */
  startUnit(id: string): Effect.Effect<void> {
    return Effect.flatMap(this.startFiber(id), (fiber) => Effect.asVoid(Fiber.await(fiber)))
  }

  /**
   * Begin starting a unit (dependencies first) and return at once: a reload's new unit may wait
   * for a dependency an operator stopped, which must not hold up the reload.
   */
  launch(id: string): Effect.Effect<void> {
    return Effect.asVoid(this.startFiber(id))
  }

  /** One start per unit at a time: a unit is reached both directly and as a dependency. */
  private startFiber(id: string): Effect.Effect<Fiber.Fiber<void, unknown>> {
    return FiberMap.run(this.starts, id, startWhenAvailable(this.context, id), { onlyIfMissing: true })
  }

  // ── operator commands ────────────────────────────────────────────────────────────────────────

  /** An operator command on every instance of a unit; completes once it has taken effect. */
  command(
    id: string,
    command: CommandName,
    options: CommandOptions = {},
  ): Effect.Effect<void, CommandRefused | UnitNotFound | SamStopping> {
    return runCommand(this.context, id, command, options)
  }

  // ── scaling ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Run `count` instances of a unit (0 to its scaling.max_instances; scaling.ts): new ones start
   * (once its dependencies are ready), the highest-numbered ones beyond `count` are drained,
   * stopped and released. Each instance keeps its port across scaling.
   */
  scale(
    id: string,
    count: number,
    options: ScaleOptions = {},
  ): Effect.Effect<void, UnitNotFound | ScaleRefused | SamStopping> {
    return scale(this.context, id, count, options)
  }

  // ── stopping ─────────────────────────────────────────────────────────────────────────────────

  /**
   * SAM was asked again to stop while stopping (a second Ctrl+C, as Compose takes it): what is
   * still stopping is SIGKILLed now instead of at the shutdown timeout.
   */
  hurryShutdown(): void {
    Deferred.doneUnsafe(this.hurried, Exit.void)
  }

  /**
   * Stop everything, dependents before their dependencies, within `timeoutMs` (shutdown.ts): what
   * is still running then is SIGKILLed. Every command after this is refused; units never start again.
   */
  shutdown(options: { timeoutMs?: number; reason?: string } = {}): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      this.stopping = true
      yield* FiberMap.clear(this.watches)
      yield* FiberMap.clear(this.starts)
      yield* shutdownUnits(this.context, options)
    })
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  private insert(spec: UnitSpec): void {
    if (this.units.has(spec.id)) throw new Error(`unit "${spec.id}" already exists`)
    // A scale kept from an earlier SAM run (the same config of the unit) wins over its instances.
    const scaled = this.options.memory?.scaledOf(spec)
    const count =
      scaled !== undefined && scaled.instances <= maxInstancesOf(spec) ? scaled.instances : spec.instances
    const runners = Array.from({ length: Math.max(0, count) }, (_, i) => this.runnerFor(spec, i))
    this.units.set(spec.id, { spec, runners, keptScale: scaled })
    this.reshape()
    watchFiles(this.context, spec)
    scheduleCron(this.context, spec)
  }

  /** A unit's config changed in place: an operator's kept scale holds only for the config it was made with. */
  private takeSpec(unit: Unit, spec: UnitSpec): void {
    unit.spec = spec
    unit.keptScale = this.options.memory?.scaledOf(spec)
  }

  private runnerFor(spec: UnitSpec, index: number): InstanceRunner {
    return new InstanceRunner(spec, index, this.env)
  }

  private lookup(id: string): Effect.Effect<Unit, UnitNotFound> {
    const unit = this.units.get(id)
    return unit
      ? Effect.succeed(unit)
      : Effect.fail(new UnitNotFound({ unit: id, message: `no agent or service "${id}"` }))
  }

  private unit(id: string): Unit {
    const unit = this.units.get(id)
    if (!unit) throw new UnitNotFound({ unit: id, message: `no agent or service "${id}"` })
    return unit
  }

  /** A group's instances in start order. */
  private members(name: string): ReadonlyArray<InstanceRunner> {
    return this.order.flatMap((id) => {
      const unit = this.units.get(id)
      return unit && unit.spec.group === name ? unit.runners : []
    })
  }

  private reorder(): void {
    const specs = this.specs()
    const order = startOrder(specs)
    // Config validation refuses cycles; specs an embedder hands in directly may still have one.
    if (Result.isFailure(order)) throw order.failure
    this.order = order.success
    this.dependents = dependentsOf(specs)
    for (const spec of specs) this.groups.named(spec.group)
  }

  /** Who stopped `id` for good (an operator's stop kept across SAM restarts), if anyone. */
  heldBy(id: string): DesiredIntent | undefined {
    const spec = this.units.get(id)?.spec
    const desired = spec && this.options.memory?.desiredOf(spec)
    return desired?.state === "stopped" ? desired : undefined
  }

  private aggregate(unit: Unit): UnitStatus {
    const status = unitStatusOf(unit, this.now(), (id) => this.heldBy(id))
    // A start waiting for dependencies says for what (`sam ps`, the API's reason).
    if (!this.waiting.has(unit.spec.id)) return status
    const reason = `waiting for ${pendingText(this.units, unit.spec)}`
    return {
      ...status,
      instances: status.instances.map((i) => (i.state === "stopped" ? { ...i, reason } : i)),
    }
  }

  private onTransition(runner: InstanceRunner, from: string, to: string): void {
    // OTP's answer to a failed child (failureAnswer.ts: decide() applied).
    if (to === "error") answerFailure(this.context, runner)
    // Every restart of a dependency, whatever its cause, restarts dependents that ask for it.
    else if (to === "starting" && runner.launched && from !== "stopped")
      restartDependentsWhenReady(this.context, runner.spec.id)
  }
}

export { CommandRefused } from "./commandEvent.ts"
