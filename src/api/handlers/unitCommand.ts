// Runs a lifecycle command from the API on a unit through Sam, as the calling principal (so the
// audit hook records who), and maps SAM's refusals to problems: UnitNotFound → 404,
// CommandRefused → 409 naming the state and what to do instead.
import { Effect } from "effect"
import type { CommandName, StopOptions } from "../../actors/lifecycleTypes.ts"
import type { CommandCall, UnitCommands } from "../../runtime/sam.ts"
import { ApiContext, apiActor } from "../apiContext.ts"
import { Principal } from "../controlApi.ts"
import { CommandConflict, NotFound } from "../problems.ts"

export type UnitKindPath = "agents" | "services"

/** What to do instead of a command the lifecycle refused in `state`. */
export const refusalHint = (command: CommandName, state: string): string => {
  switch (command) {
    case "start":
      return state === "stopping" ? "wait until it has stopped" : "restart it instead, or stop it first"
    case "stop":
      return state === "stopped" ? "there is nothing to stop" : "wait until it has stopped"
    case "restart":
      return state === "stopped" || state === "crashed" ? "start it instead" : "wait until it settles"
    case "suspend":
      return "only a running unit can be suspended"
    case "resume":
      return "only a suspended unit can be resumed"
  }
}

/** A lookup failure (UnitNotFound) as a 404 problem; anything else is a defect. */
export const notFound =
  (kind: UnitKindPath, id: string) =>
  (error: unknown): Effect.Effect<never, NotFound> => {
    if ((error as { _tag?: string })._tag === "UnitNotFound")
      return Effect.fail(
        new NotFound({ detail: `${(error as Error).message}; GET /api/${kind} lists them`, id }),
      )
    return Effect.die(error)
  }

/** Look a unit up by id, failing with a 404 problem. */
export const lookup = <A>(kind: UnitKindPath, id: string, read: () => A) =>
  Effect.try({ try: read, catch: (error) => error }).pipe(Effect.catch(notFound(kind, id)))

/** Stop options from a request body: `timeout` is in seconds. */
export const stopOptions = (body: { graceful?: boolean; timeout?: number } | null): StopOptions => ({
  ...(body?.graceful === undefined ? {} : { graceful: body.graceful }),
  ...(body?.timeout === undefined ? {} : { timeoutMs: Math.round(body.timeout * 1000) }),
})

const call = (
  commands: UnitCommands,
  command: CommandName,
  id: string,
  options: StopOptions & CommandCall,
) => {
  const { actor } = options
  const call = actor === undefined ? {} : { actor }
  switch (command) {
    case "start":
      return commands.start(id, call)
    case "stop":
      return commands.stop(id, options)
    case "restart":
      return commands.restart(id, call)
    case "suspend":
      return commands.suspend(id, call)
    case "resume":
      return commands.resume(id, call)
  }
}

/** Run `command` on unit `id` of `kind` as the request's principal; resolves once it took effect. */
export const runUnitCommand = (
  kind: UnitKindPath,
  id: string,
  command: CommandName,
  options: StopOptions = {},
) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const principal = yield* Principal
    const commands = kind === "agents" ? context.sam.agents : context.sam.services
    yield* Effect.tryPromise({
      try: () => call(commands, command, id, { ...options, actor: apiActor(principal) }),
      catch: (error) => error,
    }).pipe(
      Effect.catch((error): Effect.Effect<never, CommandConflict | NotFound> => {
        const refused = error as { _tag?: string; state?: string; message?: string; advised?: boolean }
        if (refused._tag === "CommandRefused") {
          const state = refused.state ?? "unknown"
          return Effect.fail(
            new CommandConflict({
              detail: refused.advised
                ? (refused.message ?? "")
                : `${refused.message}; ${refusalHint(command, state)}`,
              unit: id,
              command,
              state,
            }),
          )
        }
        return notFound(kind, id)(error)
      }),
      // The answer comes after the audit record is on disk.
      Effect.ensuring(Effect.promise(() => context.audit?.settled() ?? Promise.resolve())),
    )
  })
