// StateWatchers: every committed change of the runtime store goes to plain listeners and to an
// Effect PubSub. storeContext.ts holds changes back until their transaction commits.
import { Effect, PubSub } from "effect"
import type { StoreChange, StoreListener } from "./storeTypes.ts"

export class ChangeFeed {
  /** Every committed change; `PubSub.subscribe` (scoped) or `Stream.fromPubSub` to follow it. */
  readonly pubsub: PubSub.PubSub<StoreChange> = Effect.runSync(PubSub.unbounded<StoreChange>())
  private readonly listeners = new Set<StoreListener>()
  private readonly onListenerError: (error: unknown) => void

  constructor(onListenerError: (error: unknown) => void) {
    this.onListenerError = onListenerError
  }

  /** Call `listener` with every committed change; returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Hand a committed change to every watcher. A throwing listener is reported, never rethrown:
   * the write has committed, so failing it now would lie to the writer. */
  deliver(change: StoreChange): void {
    PubSub.publishUnsafe(this.pubsub, change)
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }

  close(): void {
    this.listeners.clear()
    Effect.runSync(PubSub.shutdown(this.pubsub))
  }
}
