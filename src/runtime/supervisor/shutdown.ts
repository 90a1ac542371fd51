// Stopping instances: a unit's runners stopped and waited for (removal, scaling down, commands),
// and SAM's shutdown: dependents before their dependencies, bounded by a timeout or cut short by a
// second stop request, after which what is left is SIGKILLed. supervisor.ts marks itself stopping
// and closes its pending starts and file watchers first.
import { Deferred, Duration, Effect, Fiber } from "effect"
import type { Containment } from "../containment/index.ts"
import type { SamEventBody } from "../eventBus.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import type { ForkIn } from "./lifecycleWork.ts"
import { isDown, type Unit } from "./unit.ts"

/** Send `event` to every runner that accepts it; completes once all of them are down. */
export const stopRunners = (
  runners: ReadonlyArray<InstanceRunner>,
  event: { type: "STOP"; reason: string } | { type: "SHUTDOWN"; reason: string },
): Effect.Effect<void> => {
  const stop = (r: InstanceRunner) =>
    Effect.suspend(() => {
      if (r.accepts(event)) r.send(event)
      return r.until(isDown)
    })
  // One instance (most units) without a fiber of its own.
  return runners.length === 1
    ? stop(runners[0]!)
    : Effect.forEach(runners, stop, { concurrency: "unbounded", discard: true })
}

/** What shutting down needs of the supervisor. */
export interface ShutdownContext {
  readonly order: () => ReadonlyArray<string>
  readonly unit: (id: string) => Unit
  /** Reverse edges of depends_on. */
  readonly dependents: () => ReadonlyMap<string, ReadonlyArray<string>>
  readonly allRunners: () => ReadonlyArray<InstanceRunner>
  readonly fork: ForkIn
  /** Done when a second stop request says: SIGKILL what is still stopping, now. */
  readonly hurried: Deferred.Deferred<void>
  readonly publish: (event: SamEventBody) => void
  readonly containment: Containment | undefined
}

/**
 * Stop everything, dependents before their dependencies, within `timeoutMs`: what is still
 * running then (or when SAM is asked again to stop) is SIGKILLed. Every runner is disposed after.
 */
export const shutdownUnits = (
  ctx: ShutdownContext,
  options: { timeoutMs?: number; reason?: string },
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const reason = options.reason ?? "SAM is stopping"
    const done = new Map<string, Fiber.Fiber<void>>()
    for (const id of [...ctx.order()].reverse()) {
      const unit = ctx.unit(id)
      const after = (ctx.dependents().get(id) ?? []).flatMap((d) => {
        const fiber = done.get(d)
        return fiber ? [fiber] : []
      })
      done.set(
        id,
        ctx.fork(
          Effect.andThen(Fiber.awaitAll(after), stopRunners(unit.runners, { type: "SHUTDOWN", reason })),
        ),
      )
    }
    const all = Effect.as(Fiber.awaitAll([...done.values()]), "done" as const)
    const hurried = Effect.as(Deferred.await(ctx.hurried), "hurried" as const)
    const finished = yield* Effect.timeoutOption(
      Effect.raceFirst(all, hurried),
      Duration.millis(options.timeoutMs ?? 30_000),
    )
    if (finished._tag === "None" || finished.value === "hurried") {
      const left = ctx.allRunners().filter((r) => !isDown(r))
      const why =
        finished._tag === "None"
          ? `shutdown took longer than ${(options.timeoutMs ?? 30_000) / 1000}s`
          : "SAM was asked again to stop"
      ctx.publish({
        type: "supervisor",
        action: finished._tag === "None" ? "shutdown-timeout" : "shutdown-hurried",
        detail: `${why}: SIGKILL ${left.map((r) => r.key).join(", ") || "(nothing left)"}`,
      })
      const killed = finished._tag === "None" ? `${reason} (timed out)` : `${reason} (asked again: SIGKILL)`
      for (const r of left) r.send({ type: "SHUTDOWN", reason: killed, graceful: false })
      // Whatever a unit started, in every cell, dies now.
      ctx.containment?.killAll()
      // Forced stops finish within the kill wait of the drivers; interrupt what is left of the order.
      yield* Fiber.interruptAll([...done.values()])
      yield* Effect.forEach(left, (r) => r.until(isDown), { concurrency: "unbounded", discard: true }).pipe(
        Effect.timeoutOption(Duration.seconds(10)),
      )
    }
    yield* Effect.forEach(ctx.allRunners(), (r) => r.dispose(), {
      concurrency: "unbounded",
      discard: true,
    })
  })
