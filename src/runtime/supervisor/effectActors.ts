// XState actor logic whose work is an Effect fiber forked into SAM's fiber set (so closing SAM's
// scope interrupts it): the bridge between the lifecycle machine and the runtime. Leaving a state
// interrupts its fiber; a failure rejects with the typed error (the machine records its message).
import { Cause, type Effect, Exit } from "effect"
import { type EventObject, fromCallback, fromPromise } from "xstate"

import type { ForkIn } from "./lifecycleWork.ts"

export type { ForkIn } from "./lifecycleWork.ts"

/**
 * Where an actor's effect runs, found from the actor that invoked it (its parent): one actor
 * logic serves every actor of a machine provided once, each finding its own owner.
 */
export type ForkOf = (owner: object) => ForkIn

/** The actor that invoked `self` (XState's `_parent`: every invoked actor has one). */
export const ownerOf = (self: object): object => {
  const parent = (self as { _parent?: object })._parent
  if (parent === undefined) throw new Error("SAM bug: an invoked actor without its parent")
  return parent
}

/** A promise actor: resolves with the effect's value, rejects with its error; abort interrupts. */
export const fromEffectPromise = <A, E, I>(
  forkOf: ForkOf,
  body: (input: I, owner: object) => Effect.Effect<A, E>,
) =>
  fromPromise<A, I>(
    ({ input, signal, self }) =>
      new Promise<A>((resolve, reject) => {
        const owner = ownerOf(self)
        const fiber = forkOf(owner)(body(input, owner))
        const onAbort = () => fiber.interruptUnsafe()
        signal.addEventListener("abort", onAbort, { once: true })
        fiber.addObserver((exit) => {
          signal.removeEventListener("abort", onAbort)
          if (Exit.isSuccess(exit)) resolve(exit.value)
          else if (!Cause.hasInterruptsOnly(exit.cause)) reject(Cause.squash(exit.cause))
          // Interrupted: the actor was stopped, nobody listens for the result any more.
        })
      }),
  )

/**
 * A callback actor: the effect runs while the state is active and may send events back to the
 * machine; leaving the state interrupts it.
 */
export const fromEffectCallback = <I, TEvent extends EventObject>(
  forkOf: ForkOf,
  body: (input: I, sendBack: (event: TEvent) => void, owner: object) => Effect.Effect<void>,
) =>
  fromCallback<TEvent, I>(({ input, sendBack, self }) => {
    const owner = ownerOf(self)
    const fiber = forkOf(owner)(body(input, sendBack, owner))
    return () => fiber.interruptUnsafe()
  })
