// What an instance runner does for its lifecycle actor (lifecycleRuntime.ts), as types without
// xstate: the runner's declarations, which SAM's public types reach, then read none of xstate's.
import type { Deferred, Effect, Fiber } from "effect"
import type { LifecycleEvent, StopInput, StopOutcome } from "../../actors/lifecycleTypes.ts"

/** Forks an effect into SAM's fiber set (FiberSet.makeRuntime). */
export type ForkIn = <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>

/** What an instance does in each state, for its lifecycle actor. */
export interface LifecycleWork {
  /** Where its state actors' fibers run (SAM's fiber set). */
  readonly fork: ForkIn
  /** `starting`: start an incarnation; its pid, if it has one. */
  spawn(): Effect.Effect<{ pid?: number }, Error>
  /** `stopping`: signal, grace period, SIGKILL; done when nothing of it is left. */
  stopProcess(input: StopInput): Effect.Effect<StopOutcome>
  /** `running`: watch its health, sending PROBE_* back; the returned function ends the watch. */
  watch(sendBack: (event: LifecycleEvent) => void): () => void
  /** Completed when the stop in progress must SIGKILL now (a forced stop during a graceful one). */
  readonly forced: Deferred.Deferred<void> | undefined
}
