// The lifecycle machine with SAM's runtime plugged in: its state actors (spawn, stop, watch
// health, wait) run the work of the instance that owns the actor, as fibers in SAM's fiber set.
// Provided once for every instance; each runner (instanceRunner.ts) is the work of its actor.
import { Deferred, Effect, Exit } from "effect"
import { createActor, createMachine, fromCallback } from "xstate"
import { type LifecycleEvent, lifecycleMachine, type StopInput } from "../../actors/lifecycle.machine.ts"
import { fromEffectCallback, fromEffectPromise, ownerOf } from "./effectActors.ts"
import type { LifecycleWork } from "./lifecycleWork.ts"

export type { LifecycleWork } from "./lifecycleWork.ts"

/** Each instance's work by its lifecycle actor: how the shared machine's actors find it. */
const workOf = new WeakMap<object, LifecycleWork>()

const of = (actor: object): LifecycleWork => {
  const work = workOf.get(actor)
  if (!work) throw new Error("SAM bug: a lifecycle actor without its instance runner")
  return work
}

const forkOf = (actor: object) => of(actor).fork

/**
 * The parent of every lifecycle actor: one XState actor system for all of them, where a root
 * actor of each would make a system each (~1.7 KB an instance: bench/RESULTS.md). Each actor
 * is made its child for that alone (see createLifecycleActor), and never tells it anything.
 */
const root = createActor(createMachine({})).start()

/**
 * The lifecycle machine with the runtime plugged in, provided once for every instance: each
 * `provide()` builds a whole machine (state nodes, transitions), which per instance cost most
 * of an inline agent's memory and start time (bench/RESULTS.md, "Findings").
 */
const machine = lifecycleMachine.provide({
  actors: {
    spawnInstance: fromEffectPromise(forkOf, (_: { id: string }, owner) => of(owner).spawn()),
    stopInstance: fromEffectCallback<StopInput, LifecycleEvent>(forkOf, (input, sendBack, owner) =>
      Effect.map(of(owner).stopProcess(input), (stopped) => sendBack({ type: "STOPPED", ...stopped })),
    ),
    // A plain callback actor: the probes' monitor is a fiber of its own when there are probes,
    // and an instance without any (most inline agents) needs no fiber just to be interrupted.
    watchHealth: fromCallback<LifecycleEvent, { id: string }>(({ sendBack, self }) =>
      of(ownerOf(self)).watch(sendBack),
    ),
    wait: fromEffectPromise(forkOf, ({ delayMs }: { delayMs: number }) => Effect.sleep(delayMs)),
  },
  actions: {
    escalate: ({ self }) => {
      const forced = of(self).forced
      if (forced) Deferred.doneUnsafe(forced, Exit.void)
    },
  },
})

export type LifecycleActor = ReturnType<typeof createActor<typeof machine>>

/** A lifecycle actor (not started) for instance `id`, whose states do `work`. */
export const createLifecycleActor = (id: string, work: LifecycleWork): LifecycleActor => {
  const actor = createActor(machine, { input: { id }, parent: root })
  // Only the shared system was wanted of the parent: as a root again, the actor may be stopped
  // (XState refuses to stop a child directly) and reports its own errors.
  ;(actor as unknown as { _parent?: unknown })._parent = undefined
  workOf.set(actor, work)
  return actor
}
