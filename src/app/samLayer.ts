// SAM for Effect programs: a service whose layer creates SAM from config, starts it, and stops
// every unit when the layer's scope closes (so `Effect.scoped`/`Layer.launch` own its lifetime).
import { Context, Effect, Layer } from "effect"
import type { LoadedConfig } from "../config/load.ts"
import type { SamConfigInput } from "../config/schema.ts"
import { type ConfiguredSam, type CreateSamOptions, createSam } from "./createSam.ts"

export class SamService extends Context.Service<SamService, ConfiguredSam>()("sam/Sam") {}

/** A layer providing a started SAM; closing its scope stops it. */
export const samLayer = (
  config?: string | LoadedConfig | SamConfigInput,
  options?: CreateSamOptions,
): Layer.Layer<SamService, unknown> =>
  Layer.effect(
    SamService,
    Effect.acquireRelease(
      Effect.tryPromise(async () => {
        const sam = await createSam(config, options)
        await sam.start()
        return sam
      }),
      (sam) => Effect.promise(() => sam.stop()),
    ),
  )
