// An operator's command (start, stop, restart, suspend, resume) on every instance of a unit: the
// lifecycle machine says which instances accept it, the unit's state is named when none does, the
// operator's intent is kept (SupervisorMemory), a restart of several instances rolls. supervisor.ts
// answers `command` with it; it completes once the command has taken effect.
import { Duration, Effect, FiberMap } from "effect"
import type { CommandName } from "../../actors/lifecycleTypes.ts"
import { CommandRefused } from "./commandEvent.ts"
import {
  type CommandOptions,
  type DesiredIntent,
  SamStopping,
  type ScaleOptions,
  type ScaleRefused,
  type SupervisorMemory,
  type UnitNotFound,
} from "./contracts.ts"
import { satisfied } from "./dependencies.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { rolloutKey } from "./rollout.ts"
import { stopRunners } from "./shutdown.ts"
import { readinessBudgetMs, untilBlocked, untilDependenciesSettledShort } from "./startAll.ts"
import { isDown, isReady, type Unit } from "./unit.ts"
import type { UnitStatus } from "./unitStatus.ts"
import { resumeWatch } from "./watchedFiles.ts"

/** Where a command has finished acting, for callers that wait on it. */
const commandDone: Record<CommandName, (r: InstanceRunner) => boolean> = {
  start: (r) => r.state !== "starting" && r.state !== "stopped" && r.state !== "stopping",
  // Down, or superseded: a start queued during the stop brings it back up.
  stop: (r) => r.state !== "stopping",
  restart: (r) => r.state !== "stopping" && r.state !== "starting",
  suspend: (r) => r.state !== "running",
  resume: (r) => r.state !== "suspended",
}

/** Ready, or down again, or waiting to retry: where a start's outcome is known. */
const servingOrDown = (r: InstanceRunner): boolean => isReady(r) || isDown(r) || r.state === "backoff"

/** Extra time a command waits beyond the stop grace period before it reports. */
export const commandSlackMs = 30_000

const commandEventOf = (command: CommandName, options: CommandOptions) => {
  switch (command) {
    case "start":
      return { type: "START" as const }
    case "stop":
      return { type: "STOP" as const, ...(options.graceful === false ? { graceful: false } : {}) }
    case "restart":
      return { type: "RESTART" as const }
    case "suspend":
      return { type: "SUSPEND" as const }
    case "resume":
      return { type: "RESUME" as const }
  }
}

/** What an operator command needs of the supervisor. */
export interface CommandContext {
  readonly units: ReadonlyMap<string, Unit>
  readonly stopping: () => boolean
  readonly lookup: (id: string) => Effect.Effect<Unit, UnitNotFound>
  /** The unit's status as surfaces see it (its state names a refusal). */
  readonly status: (unit: Unit) => UnitStatus
  /** Who stopped a unit for good (an operator's stop kept across SAM restarts), if anyone. */
  readonly heldBy: (id: string) => DesiredIntent | undefined
  readonly memory: SupervisorMemory | undefined
  readonly resetWindow: (runner: InstanceRunner) => void
  /** An operator's start of a unit is how a group that shut down recovers; true when it had. */
  readonly clearGroupFailure: (group: string) => boolean
  /** Pending starts and rollouts, by unit: a stop cancels them. */
  readonly starts: FiberMap.FiberMap<string>
  /** Units whose start waits for a dependency. */
  readonly waiting: ReadonlySet<string>
  readonly scale: (
    id: string,
    count: number,
    options: ScaleOptions,
  ) => Effect.Effect<void, UnitNotFound | ScaleRefused | SamStopping>
  /** Start one unit after its dependencies (started as needed) are ready. */
  readonly startUnit: (id: string) => Effect.Effect<void>
}

/** An operator command on every instance of a unit; completes once it has taken effect. */
export const runCommand = (
  ctx: CommandContext,
  id: string,
  command: CommandName,
  options: CommandOptions,
): Effect.Effect<void, CommandRefused | UnitNotFound | SamStopping> =>
  Effect.gen(function* () {
    if (ctx.stopping())
      return yield* new SamStopping({ message: `cannot ${command} "${id}": SAM is stopping` })
    const unit = yield* ctx.lookup(id)
    // A unit scaled to 0 (or with min_instances 0) has no instance to start: `start` scales it
    // to its min_instances, at least one, as `sam scale` would.
    if (command === "start" && unit.runners.length === 0) {
      return yield* ctx
        .scale(id, Math.max(1, unit.spec.instances), {
          ...(options.by === undefined ? {} : { by: options.by }),
        })
        .pipe(
          Effect.catchTag("ScaleRefused", (refused) =>
            Effect.fail(
              new CommandRefused({ unit: id, command, state: "stopped", message: refused.message }),
            ),
          ),
        )
    }
    const accepting = unit.runners.filter((r) => r.accepts(commandEventOf(command, options)))
    // A stop of a unit still waiting for its dependencies cancels that start.
    if (command === "stop" && accepting.length === 0 && (yield* FiberMap.has(ctx.starts, id))) {
      yield* FiberMap.remove(ctx.starts, id)
      ctx.memory?.setDesired(unit.spec, "stopped", options.by ?? "library")
      return
    }
    if (accepting.length === 0) {
      const state = ctx.status(unit).state
      return yield* new CommandRefused({
        unit: id,
        command,
        state,
        message: `cannot ${command} "${id}": it is ${state}`,
      })
    }
    const pendingDeps = unit.spec.dependsOn.filter((d) => !satisfied(ctx.units, unit.spec, d))
    // A dependency an operator stopped is not started behind their back: say which, refuse.
    const heldDeps = pendingDeps.filter((d) => ctx.heldBy(d) !== undefined)
    if ((command === "start" || command === "restart") && heldDeps.length > 0) {
      const state = ctx.status(unit).state
      return yield* new CommandRefused({
        unit: id,
        command,
        state,
        message: `cannot ${command} "${id}": its dependenc${heldDeps.length === 1 ? "y" : "ies"} ${heldDeps.join(", ")} ${heldDeps.length === 1 ? "was" : "were"} stopped by an operator; start ${heldDeps.length === 1 ? "it" : "them"} first`,
        advised: true,
      })
    }
    if (command === "stop" || command === "start" || command === "restart")
      ctx.memory?.setDesired(unit.spec, command === "stop" ? "stopped" : "running", options.by ?? "library")
    /**
     * The rest of a group that shut down (OTP: a supervisor past its intensity stops all its
     * children): a start of one member brings the group back, its other members with it (those
     * its shutdown left down, not those an operator stopped).
     */
    let siblings: ReadonlyArray<string> = []
    if (command === "start" || command === "restart") {
      if (ctx.clearGroupFailure(unit.spec.group))
        siblings = [...ctx.units.values()]
          .filter(
            (u) =>
              u !== unit &&
              u.spec.group === unit.spec.group &&
              ctx.heldBy(u.spec.id) === undefined &&
              u.runners.every(isDown),
          )
          .map((u) => u.spec.id)
      for (const r of unit.runners) ctx.resetWindow(r)
      for (const sibling of siblings)
        for (const r of ctx.units.get(sibling)?.runners ?? []) ctx.resetWindow(r)
      // A watch paused for the unit's own writes watches again.
      resumeWatch(unit)
    }
    if (command === "stop") {
      yield* FiberMap.remove(ctx.starts, id)
      yield* FiberMap.remove(ctx.starts, rolloutKey(id))
    }
    // Every instance starts anew with the unit's config: a halted rollout's note no longer holds.
    if (command === "stop" || command === "restart") unit.rolloutHalted = undefined
    const acting = Effect.gen(function* () {
      if (command === "start" || (command === "restart" && pendingDeps.length > 0)) {
        // A restart whose dependencies are down is a stop, then a start that brings them up first.
        if (command === "restart") {
          yield* stopRunners(unit.runners, { type: "STOP", reason: options.reason ?? "restart" })
          for (const r of unit.runners) r.restartPending = true
        }
        // A start already waiting for its dependencies begins again: it tries those that are down.
        yield* FiberMap.remove(ctx.starts, id)
        // A dependency that fails for good meanwhile, or settles without being what the unit
        // waits for (not ready within its check's time, crashed and retrying later), answers the
        // command at once: the unit stays waiting, and the answer says for what.
        const outcome = yield* Effect.raceAll([
          Effect.as(
            Effect.all([id, ...siblings].map(ctx.startUnit), { concurrency: "unbounded", discard: true }),
            "started" as const,
          ),
          Effect.as(untilBlocked(ctx, id), "blocked" as const),
          Effect.as(untilDependenciesSettledShort(ctx, id), "blocked" as const),
        ])
        if (outcome === "blocked") return
      } else if (command === "restart" && accepting.length > 1) {
        // Rolling, as PM2's reload and a Kubernetes rollout: the next instance restarts once this
        // one serves again (or has failed), so the others keep answering meanwhile.
        for (const r of accepting) {
          yield* r.command(command, options)
          yield* r.until((x) => isReady(x) || isDown(x) || x.state === "backoff")
        }
      } else {
        for (const r of accepting) yield* r.command(command, options)
      }
      // A restart of a member of a group that shut down: its siblings come back with it (a
      // start's are started with it above).
      if (command === "restart" && pendingDeps.length === 0 && siblings.length > 0)
        yield* Effect.forEach(siblings, ctx.startUnit, { concurrency: "unbounded", discard: true })
      yield* Effect.forEach(accepting, (r) => r.until(commandDone[command]), {
        concurrency: "unbounded",
        discard: true,
      })
      // A start or restart answers once the unit serves (or is down again), as `compose up --wait`
      // does: a caller may use it at once. One that is not ready within what its readiness check
      // allows answers as it is (running.unready, the check's reason).
      if (command === "start" || command === "restart")
        yield* Effect.forEach(accepting, (r) => r.until(servingOrDown), {
          concurrency: "unbounded",
          discard: true,
        }).pipe(Effect.timeoutOption(Duration.millis(readinessBudgetMs(unit.spec))))
    })
    // A stop may drain the gateway's requests for its grace period, then signal and wait as long.
    const stopMs = 2 * (options.timeoutMs ?? unit.spec.stop.graceMs)
    // A rolling restart waits for each instance in turn.
    const turns = command === "restart" ? accepting.length : 1
    yield* acting.pipe(Effect.timeoutOption(Duration.millis((stopMs + commandSlackMs) * turns)))
  })
