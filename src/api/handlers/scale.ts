// POST /api/services/:id/scale: runs Sam.scale as the calling principal, records it in the audit
// log (`service.scale`, with the count) and maps SAM's refusals to problems: UnitNotFound → 404,
// ScaleRefused → 422 naming the range, SamStopping → 409.
import { Effect } from "effect"
import type { AuditResult } from "../../audit/auditEntry.ts"
import { ApiContext, apiActor, auditNow } from "../apiContext.ts"
import { Principal } from "../controlApi.ts"
import { CommandConflict, ScaleOutOfRange } from "../problems.ts"
import { notFound } from "./unitCommand.ts"

interface Refusal {
  readonly _tag?: string
  readonly message?: string
  readonly max?: number
}

const resultOf = (error: Refusal | undefined): AuditResult =>
  error === undefined
    ? "ok"
    : error._tag === "UnitNotFound"
      ? "not_found"
      : error._tag === "ScaleRefused" || error._tag === "SamStopping"
        ? "refused"
        : "failed"

/** Scale service `id` to `instances`; resolves once the scale took effect (see Sam.scale). */
export const runScale = (id: string, instances: number) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const principal = yield* Principal
    const actor = apiActor(principal)
    const failure = yield* Effect.tryPromise({
      try: async () => {
        // A service: an agent's id is a 404 here, as on the other service endpoints.
        context.sam.services.status(id)
        await context.sam.scale(id, instances, { actor })
      },
      catch: (error) => error as Refusal,
    }).pipe(
      Effect.as(undefined),
      Effect.catch((error) => Effect.succeed(error)),
    )
    yield* Effect.promise(() =>
      auditNow(context, {
        actor,
        action: "service.scale",
        target: id,
        params: { instances },
        result: resultOf(failure),
        ...(failure === undefined ? {} : { detail: failure.message ?? String(failure) }),
      }),
    )
    if (failure === undefined) return
    if (failure._tag === "ScaleRefused")
      return yield* new ScaleOutOfRange({
        detail: `${failure.message}; \`sam ps\` (GET /api/services/${id}) shows how many it runs`,
        unit: id,
        instances,
        min: 0,
        max: failure.max ?? 0,
      })
    if (failure._tag === "SamStopping")
      return yield* new CommandConflict({
        detail: failure.message ?? `cannot scale "${id}": SAM is stopping`,
        unit: id,
        command: "scale",
        state: "stopping",
      })
    return yield* notFound("services", id)(failure)
  })
