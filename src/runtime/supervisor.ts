// The supervision tree: root → groups (strategy + restart intensity) → unit instances.
// It answers every instance that enters `error` (restart with backoff, give up, or stand down),
// applies the group strategy to siblings, escalates crashes (child → group → root; the root
// reports and keeps SAM alive), and orders starts and stops by `depends_on`.
import { Data, Effect } from "effect"
import type { CommandName, StopOptions } from "../actors/lifecycle.machine.ts"
import { backoffDelay } from "./backoff.ts"
import { dependentsMap, startOrder } from "./dependencyGraph.ts"
import { CommandRefused, InstanceRunner, type RunnerEnvironment } from "./instanceRunner.ts"
import { restartVerdict } from "./restartPolicy.ts"
import { RestartWindow } from "./restartWindow.ts"
import {
  type Group,
  type GroupSpec,
  implicitGroupIntensity,
  makeGroup,
  type Strategy,
  siblingsToRestart,
} from "./supervisionGroup.ts"
import type { UnitSpec } from "./unitSpec.ts"
import { aggregateStatus, type UnitStatus } from "./unitStatus.ts"

export type { GroupSpec, Strategy } from "./supervisionGroup.ts"
export type { UnitStatus } from "./unitStatus.ts"

export class UnitNotFound extends Data.TaggedError("UnitNotFound")<{
  readonly unit: string
  readonly message: string
}> {}

export interface StartReport {
  readonly ready: ReadonlyArray<string>
  readonly notReady: ReadonlyArray<{ readonly id: string; readonly state: string; readonly reason: string }>
}

interface Unit {
  readonly spec: UnitSpec
  readonly runners: ReadonlyArray<InstanceRunner>
}

/** Done starting: ready, given up on, or stopped again after having been started. */
const settled = (r: InstanceRunner) =>
  (r.state === "running" && r.ready) || r.state === "crashed" || (r.state === "stopped" && r.launched)

/** Where a command has finished acting, for callers that wait on it. */
const commandDone: Record<CommandName, (r: InstanceRunner) => boolean> = {
  start: (r) => r.state !== "starting" && r.state !== "stopped",
  stop: (r) => r.state === "stopped" || r.state === "crashed",
  restart: (r) => r.state !== "stopping" && r.state !== "starting",
  suspend: (r) => r.state !== "running",
  resume: (r) => r.state !== "suspended",
}

export class Supervisor {
  readonly env: RunnerEnvironment
  private readonly units = new Map<string, Unit>()
  private readonly groups = new Map<string, Group>()
  private readonly childWindows = new WeakMap<InstanceRunner, RestartWindow>()
  private order: ReadonlyArray<string> = []
  /** Reverse edges of depends_on, rebuilt with the order. */
  private dependents: ReadonlyMap<string, ReadonlyArray<string>> = new Map()
  private shuttingDown = false
  private readonly lifetime = new AbortController()
  private readonly waiting = new Set<string>()
  private readonly starts = new Map<string, Promise<void>>()

  constructor(specs: ReadonlyArray<UnitSpec>, groups: ReadonlyArray<GroupSpec>, env: RunnerEnvironment) {
    this.env = {
      ...env,
      urlOf: (id) => this.units.get(id)?.runners.find((r) => r.state === "running" && r.ready)?.url,
    }
    for (const g of groups) this.groups.set(g.name, makeGroup(g))
    // One ordering for all units: reordering after each would be quadratic (10,000 agents).
    for (const spec of specs) this.insert(spec)
    this.reorder()
  }

  /** Add a unit (stopped). Used at construction and by config hot reload. */
  add(spec: UnitSpec): void {
    this.insert(spec)
    this.reorder()
  }

  private insert(spec: UnitSpec): void {
    if (this.units.has(spec.id)) throw new Error(`unit "${spec.id}" already exists`)
    const runners = Array.from(
      { length: Math.max(1, spec.instances) },
      (_, i) => new InstanceRunner(spec, i, this.env),
    )
    for (const runner of runners) {
      this.childWindows.set(runner, new RestartWindow(spec.restart.maxRestarts, spec.restart.windowMs))
      runner.onTransition((r, from, to) => this.onTransition(r, from, to))
    }
    this.units.set(spec.id, { spec, runners })
  }

  /** Stop and forget a unit. */
  async remove(id: string): Promise<void> {
    const unit = this.unit(id)
    await this.stopRunners(unit, {})
    await Promise.all(unit.runners.map((r) => r.dispose()))
    this.units.delete(id)
    this.reorder()
  }

  /**
   * Take new group settings (strategy, intensity) without touching running units: a changed
   * intensity starts a fresh window, a new group starts empty, a group no unit uses is kept.
   */
  configureGroups(groups: ReadonlyArray<GroupSpec>): void {
    for (const spec of groups) {
      const group = this.groups.get(spec.name)
      const same =
        group &&
        group.spec.strategy === spec.strategy &&
        group.spec.maxRestarts === spec.maxRestarts &&
        group.spec.windowMs === spec.windowMs
      if (same) continue
      this.groups.set(spec.name, makeGroup(spec, group?.members ?? [], group?.failed ?? false))
    }
    this.reorder()
  }

  /** Apply a changed spec in place (no restart): see InstanceRunner.reconfigure. */
  reconfigure(spec: UnitSpec): void {
    const unit = this.unit(spec.id)
    for (const runner of unit.runners) runner.reconfigure(spec)
    this.units.set(spec.id, { spec, runners: unit.runners })
    this.childWindowsReset(unit.runners, spec)
    this.reorder()
  }

  private childWindowsReset(runners: ReadonlyArray<InstanceRunner>, spec: UnitSpec): void {
    for (const r of runners)
      this.childWindows.set(r, new RestartWindow(spec.restart.maxRestarts, spec.restart.windowMs))
  }

  has(id: string): boolean {
    return this.units.has(id)
  }

  specs(): ReadonlyArray<UnitSpec> {
    return [...this.units.values()].map((u) => u.spec)
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

  /** Start every unit in dependency order; resolves when all are ready or settled, or at the timeout. */
  async startAll(timeoutMs = 60_000): Promise<StartReport> {
    this.shuttingDown = false
    const all = [...this.order]
    for (const id of all) void this.startUnit(id).catch(() => {})
    const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.lifetime.signal])
    await Promise.all(this.allRunners().map((r) => r.waitFor(settled, deadline).catch(() => {})))
    return this.report(all)
  }

  /** Start one unit after its dependencies (started as needed) are ready. */
  startUnit(id: string): Promise<void> {
    // One start per unit at a time: a unit is reached both directly and as a dependency.
    const inFlight = this.starts.get(id)
    if (inFlight) return inFlight
    const start = this.startUnitNow(id).finally(() => this.starts.delete(id))
    this.starts.set(id, start)
    return start
  }

  private async startUnitNow(id: string): Promise<void> {
    const unit = this.unit(id)
    for (const dep of unit.spec.dependsOn) {
      const depUnit = this.units.get(dep)
      if (depUnit?.runners.every((r) => r.state === "stopped")) void this.startUnit(dep).catch(() => {})
    }
    const pending = unit.spec.dependsOn.filter((d) => !this.available(d))
    if (pending.length > 0) {
      this.waiting.add(id)
      this.env.bus.publish({
        type: "supervisor",
        action: "waiting",
        unit: id,
        detail: `waiting for ${pending.join(", ")} to be ready`,
      })
      try {
        await Promise.all(pending.map((d) => this.waitAvailable(d, this.lifetime.signal)))
      } finally {
        this.waiting.delete(id)
      }
    }
    if (this.shuttingDown) return
    for (const runner of unit.runners) {
      if (runner.accepts("start")) await Effect.runPromise(runner.command("start", { reason: "start" }))
    }
  }

  /** An operator command on every instance of a unit; waits until it has taken effect. */
  async command(
    id: string,
    command: CommandName,
    options: StopOptions & { reason?: string } = {},
  ): Promise<void> {
    const unit = this.unit(id)
    const accepting = unit.runners.filter((r) => r.accepts(command))
    if (accepting.length === 0) {
      const state = this.aggregate(unit).state
      throw new CommandRefused({
        unit: id,
        command,
        state,
        message: `cannot ${command} "${id}": it is ${state}`,
      })
    }
    if (command === "start") {
      this.clearGroupFailure(unit.spec.group)
      await this.startUnit(id)
    } else {
      if (command === "restart") this.clearGroupFailure(unit.spec.group)
      for (const r of accepting) await Effect.runPromise(r.command(command, options))
    }
    const timeout = AbortSignal.timeout((options.timeoutMs ?? unit.spec.stop.graceMs) + 30_000)
    await Promise.all(accepting.map((r) => r.waitFor(commandDone[command], timeout).catch(() => {})))
  }

  /** Stop everything: dependents before their dependencies; SAM itself stays up. */
  async stopAll(options: StopOptions = {}): Promise<void> {
    this.shuttingDown = true
    const done = new Map<string, Promise<void>>()
    for (const id of [...this.order].reverse()) {
      const unit = this.unit(id)
      const after = (this.dependents.get(id) ?? []).map((d) => done.get(d) ?? Promise.resolve())
      done.set(
        id,
        Promise.all(after).then(() => this.stopRunners(unit, options)),
      )
    }
    await Promise.all(done.values())
  }

  /** Stop all units and release every actor. */
  async shutdown(options: StopOptions = {}): Promise<void> {
    await this.stopAll(options)
    this.lifetime.abort(new Error("SAM stopped"))
    await Promise.all(this.allRunners().map((r) => r.dispose()))
  }

  status(id: string): UnitStatus {
    return this.aggregate(this.unit(id))
  }

  statuses(): ReadonlyArray<UnitStatus> {
    return this.order.map((id) => this.aggregate(this.unit(id)))
  }

  groupStates(): ReadonlyArray<{
    name: string
    strategy: Strategy
    failed: boolean
    members: ReadonlyArray<string>
  }> {
    return [...this.groups.values()].map((g) => ({
      name: g.spec.name,
      strategy: g.spec.strategy,
      failed: g.failed,
      members: g.members.map((m) => m.key),
    }))
  }

  private unit(id: string): Unit {
    const unit = this.units.get(id)
    if (!unit) throw new UnitNotFound({ unit: id, message: `no agent or service "${id}"` })
    return unit
  }

  private group(name: string): Group {
    let group = this.groups.get(name)
    if (!group) {
      group = makeGroup({ name, strategy: "one_for_one", ...implicitGroupIntensity })
      this.groups.set(name, group)
    }
    return group
  }

  private reorder(): void {
    const specs = this.specs()
    this.order = startOrder(specs)
    this.dependents = dependentsMap(specs)
    for (const g of this.groups.values()) g.members.length = 0
    for (const id of this.order) {
      const unit = this.unit(id)
      this.group(unit.spec.group).members.push(...unit.runners)
    }
  }

  /** A dependency is available when at least one of its instances is ready. */
  private available(id: string): boolean {
    const unit = this.units.get(id)
    return unit?.runners.some((r) => r.state === "running" && r.ready) ?? false
  }

  private waitAvailable(id: string, signal: AbortSignal): Promise<void> {
    const unit = this.units.get(id)
    if (!unit) return Promise.reject(new Error(`unknown dependency "${id}"`))
    if (this.available(id)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const offs = unit.runners.map((r) =>
        r.onTransition(() => {
          if (this.available(id)) {
            for (const off of offs) off()
            resolve()
          }
        }),
      )
      signal.addEventListener(
        "abort",
        () => {
          for (const off of offs) off()
          reject(signal.reason)
        },
        { once: true },
      )
    })
  }

  private async stopRunners(unit: Unit, options: StopOptions): Promise<void> {
    await Promise.all(
      unit.runners.map(async (r) => {
        if (r.accepts("stop") && r.state !== "stopping") {
          await Effect.runPromise(r.command("stop", { ...options, reason: "stop" }).pipe(Effect.ignore))
        }
        await r.waitFor((x) => x.state === "stopped" || x.state === "crashed")
      }),
    )
  }

  private report(ids: ReadonlyArray<string>): StartReport {
    const ready: string[] = []
    const notReady: Array<{ id: string; state: string; reason: string }> = []
    for (const id of ids) {
      const unit = this.unit(id)
      if (unit.runners.every((r) => r.state === "running" && r.ready)) ready.push(id)
      else {
        const worst = this.aggregate(unit)
        const reason = this.waiting.has(id)
          ? `waiting for ${unit.spec.dependsOn.filter((d) => !this.available(d)).join(", ")}`
          : (unit.runners.find((r) => !(r.state === "running" && r.ready))?.context.reason ?? "")
        notReady.push({ id, state: worst.state === "running" ? "running.unready" : worst.state, reason })
      }
    }
    return { ready, notReady }
  }

  private aggregate(unit: Unit): UnitStatus {
    return aggregateStatus(unit.spec, unit.runners)
  }

  private onTransition(runner: InstanceRunner, from: string, to: string): void {
    if (to === "error") this.decide(runner)
    else if (to === "starting" && from !== "stopped" && from !== "crashed")
      this.notifyDependents(runner.spec.id)
  }

  /** OTP's answer to a failed child. */
  private decide(runner: InstanceRunner): void {
    const { spec } = runner
    const policy = spec.restart
    const ctx = runner.context
    const now = Date.now()
    const group = this.group(spec.group)
    if (this.shuttingDown || group.failed) {
      const why = this.shuttingDown ? "SAM is stopping" : `group ${group.spec.name} is shut down`
      runner.send({ type: "STAND_DOWN", reason: `${ctx.reason}; not restarted (${why})` })
      return
    }
    const verdict = restartVerdict(policy, ctx.failure, ctx.lastExit)
    if (!verdict.restart) {
      this.env.bus.publish({
        type: "supervisor",
        action: "stand-down",
        unit: runner.key,
        group: group.spec.name,
        detail: verdict.why,
      })
      runner.send({ type: "STAND_DOWN", reason: `${ctx.reason}; not restarted: ${verdict.why}` })
      return
    }

    const window = this.childWindows.get(runner) as RestartWindow
    if (!window.tryRecord(now)) {
      const detail = `${runner.key} exceeded its restart intensity (${policy.maxRestarts} restarts in ${policy.windowMs / 1000}s); last failure: ${ctx.reason}`
      runner.send({
        type: "GIVE_UP",
        reason: `restart intensity exceeded (${policy.maxRestarts} in ${policy.windowMs / 1000}s): ${ctx.reason}`,
      })
      this.env.bus.publish({
        type: "supervisor",
        action: "give-up",
        unit: runner.key,
        group: group.spec.name,
        detail,
      })
      this.escalate(group, detail)
      return
    }
    if (!group.window.tryRecord(now)) {
      this.shutdownGroup(
        group,
        `group ${group.spec.name} exceeded its restart intensity (${group.spec.maxRestarts} in ${group.spec.windowMs / 1000}s)`,
      )
      return
    }
    if (runner.startedAt !== undefined && now - runner.startedAt >= policy.stableMs)
      runner.consecutiveFailures = 0
    const delayMs = backoffDelay(
      { baseMs: policy.backoffBaseMs, maxMs: policy.backoffMaxMs },
      runner.consecutiveFailures++,
    )
    this.env.bus.publish({
      type: "supervisor",
      action: "restart",
      unit: runner.key,
      group: group.spec.name,
      detail: `${ctx.reason}; restarting in ${delayMs} ms (${group.spec.strategy})`,
    })
    runner.send({ type: "RETRY", delayMs, reason: `${ctx.reason}; restart in ${delayMs} ms` })
    this.restartSiblings(group, runner)
  }

  private restartSiblings(group: Group, failed: InstanceRunner): void {
    const reason = `${group.spec.strategy}: sibling ${failed.key} failed`
    for (const sibling of siblingsToRestart(group, failed)) sibling.send({ type: "RESTART", reason })
  }

  private escalate(group: Group, detail: string): void {
    this.env.bus.publish({
      type: "supervisor",
      action: "escalation",
      group: group.spec.name,
      detail: `escalated to group ${group.spec.name}: ${detail}`,
    })
    if (!group.window.tryRecord(Date.now())) {
      this.shutdownGroup(
        group,
        `group ${group.spec.name} exceeded its restart intensity (${group.spec.maxRestarts} in ${group.spec.windowMs / 1000}s) after: ${detail}`,
      )
    }
  }

  /** OTP: a supervisor past its intensity terminates its children and escalates; the root reports. */
  private shutdownGroup(group: Group, reason: string): void {
    group.failed = true
    this.env.bus.publish({
      type: "supervisor",
      action: "group-shutdown",
      group: group.spec.name,
      detail: reason,
    })
    for (const member of group.members) member.send({ type: "SHUTDOWN", reason })
    this.env.bus.publish({
      type: "supervisor",
      action: "escalation",
      group: "root",
      detail: `escalated to root: ${reason}; SAM keeps running, start the group's units again to recover`,
    })
  }

  private clearGroupFailure(name: string): void {
    const group = this.groups.get(name)
    if (group?.failed) {
      group.failed = false
      group.window.reset()
    }
  }

  private notifyDependents(id: string): void {
    for (const dependent of this.dependents.get(id) ?? []) {
      const unit = this.units.get(dependent)
      if (!unit) continue
      const act = unit.spec.dependencyRestart === "restart"
      this.env.bus.publish({
        type: "supervisor",
        action: "dependency-restarted",
        unit: dependent,
        detail: `${id} restarted; ${act ? "restarting once it is ready" : "no action (dependency_restart: none)"}`,
      })
      if (!act) continue
      void this.waitAvailable(id, this.lifetime.signal)
        .then(() => {
          for (const r of unit.runners) {
            if (!this.shuttingDown && r.state === "running")
              r.send({ type: "RESTART", reason: `dependency ${id} restarted` })
          }
        })
        .catch(() => {})
    }
  }
}
