// The runtime store for Effect programs: a layer that takes the state-dir lock, opens the store,
// and on scope close closes the store and then releases the lock (createSam does the same by hand).
import { Context, Effect, Layer } from "effect"
import { openRuntimeStore, type RuntimeStore, type RuntimeStoreOptions } from "./runtimeStore.ts"
import { acquireStateDir, type StateDirInUse, type StateDirLockFailed } from "./stateDirLock.ts"
import type { StoreOpenFailed, StoreVersionTooNew } from "./storeErrors.ts"

export class RuntimeStoreService extends Context.Service<RuntimeStoreService, RuntimeStore>()(
  "sam/RuntimeStore",
) {}

export type RuntimeStoreError = StateDirInUse | StateDirLockFailed | StoreVersionTooNew | StoreOpenFailed

/** The store of `stateDir`, owned by this layer's scope (the lock first, released last). */
export const runtimeStoreLayer = (
  stateDir: string,
  options: RuntimeStoreOptions = {},
): Layer.Layer<RuntimeStoreService, RuntimeStoreError> =>
  Layer.effect(
    RuntimeStoreService,
    Effect.gen(function* () {
      yield* Effect.acquireRelease(
        // Both functions throw only the tagged errors above.
        Effect.try({
          try: () => acquireStateDir(stateDir),
          catch: (error) => error as StateDirInUse | StateDirLockFailed,
        }),
        (lock) => Effect.sync(() => lock.release()),
      )
      return yield* Effect.acquireRelease(
        Effect.try({
          try: () => openRuntimeStore(stateDir, options),
          catch: (error) => error as StoreVersionTooNew | StoreOpenFailed,
        }),
        (store) => Effect.sync(() => store.close()),
      )
    }),
  )
