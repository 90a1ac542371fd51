// GET /api/capabilities lists every capability with its providers (capabilityList.ts).
// POST /api/capabilities/:name/invoke: routes the call through SAM's capability router, as JSON
// ({output, agent, duration_ms}) or, when the client accepts text/event-stream, as SSE `chunk`
// events followed by `done` or `error`. Every invocation is recorded in the audit log.
import { Effect, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import type { AuditResult } from "../../audit/auditEntry.ts"
import { ApiContext, type ApiContextShape, apiActor, auditNow } from "../apiContext.ts"
import type { ApiPrincipal } from "../auth.ts"
import { capabilityList } from "../capabilityList.ts"
import { ControlApi, Principal } from "../controlApi.ts"
import { sseFrame } from "../eventStream.ts"
import { asJsonOutput } from "../jsonOutput.ts"
import { type CapabilityProblem, capabilityProblem } from "../problems.ts"
import { sseHeaders } from "./system.ts"

const auditInvoke = (
  context: ApiContextShape,
  principal: ApiPrincipal,
  capability: string,
  result: AuditResult,
  detail: string,
) =>
  auditNow(context, {
    actor: apiActor(principal),
    action: "capability.invoke",
    target: capability,
    result,
    detail,
  })

/** The problem's wire form, for an SSE `error` event. */
const problemData = (problem: CapabilityProblem) => ({
  type: problem.type,
  title: problem.title,
  status: problem.status,
  detail: problem.detail,
  capability: problem.capability,
  reason: problem.reason,
})

const acceptsEventStream = (accept: string | undefined) =>
  (accept ?? "").toLowerCase().includes("text/event-stream")

export const capabilitiesLive = HttpApiBuilder.group(ControlApi, "capabilities", (handlers) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const { sam } = context
    return handlers.handleAll({
      list: () => Effect.sync(() => capabilityList(sam)),
      invoke: ({ params, payload, request }) =>
        Effect.gen(function* () {
          const principal = yield* Principal
          const name = params.name
          const timeoutMs =
            payload.timeout_seconds === undefined
              ? context.invokeTimeoutMs
              : Math.round(payload.timeout_seconds * 1000)
          if (acceptsEventStream(request.headers.accept))
            return yield* streamed(context, principal, name, payload.input, timeoutMs)
          const result = yield* Effect.tryPromise({
            try: async (signal) => {
              const done = await sam.capabilities.invoke(name, payload.input, { timeoutMs, signal })
              return { ...done, output: asJsonOutput(done.output, name, `agent "${done.agent}"`) }
            },
            catch: (error) => capabilityProblem(error, name),
          }).pipe(
            Effect.tapError((problem) =>
              Effect.promise(() =>
                auditInvoke(context, principal, name, "failed", problem.detail ?? problem.title),
              ),
            ),
          )
          yield* Effect.promise(() =>
            auditInvoke(
              context,
              principal,
              name,
              "ok",
              `served by ${result.agent} in ${result.duration_ms} ms`,
            ),
          )
          return result
        }),
    })
  }),
)

/**
 * The SSE answer. The first chunk is awaited before answering, so a call that cannot start
 * (no such capability, busy, ...) still gets its HTTP error status.
 */
const streamed = (
  context: ApiContextShape,
  principal: ApiPrincipal,
  name: string,
  input: unknown,
  timeoutMs: number,
) =>
  Effect.gen(function* () {
    const controller = new AbortController()
    const began = performance.now()
    const iterator = context.sam.capabilities.stream(name, input, { timeoutMs, signal: controller.signal })
    const first = yield* Effect.tryPromise({
      try: () => iterator.next(),
      catch: (error) => capabilityProblem(error, name),
    }).pipe(
      Effect.tapError((problem) =>
        Effect.promise(() =>
          auditInvoke(context, principal, name, "failed", problem.detail ?? problem.title),
        ),
      ),
    )
    async function* frames(): AsyncGenerator<string> {
      let next = first
      let outcome: { result: AuditResult; detail: string } = { result: "failed", detail: "client went away" }
      try {
        while (next.done !== true) {
          yield sseFrame({ event: "chunk", data: asJsonOutput(next.value, name, "the agent streaming it") })
          next = await iterator.next()
        }
        const done = { agent: next.value, duration_ms: Math.round(performance.now() - began) }
        outcome = { result: "ok", detail: `streamed by ${done.agent} in ${done.duration_ms} ms` }
        yield sseFrame({ event: "done", data: done })
      } catch (error) {
        const problem = capabilityProblem(error, name)
        outcome = { result: "failed", detail: problem.detail ?? problem.title }
        yield sseFrame({ event: "error", data: problemData(problem) })
      } finally {
        controller.abort()
        await iterator.return(undefined as never)
        await auditInvoke(context, principal, name, outcome.result, outcome.detail)
      }
    }
    const body = Stream.fromAsyncIterable(frames(), (error) => error).pipe(
      Stream.ensuring(Effect.sync(() => controller.abort())),
      Stream.orDie,
      Stream.encodeText,
    )
    return HttpServerResponse.stream(body, { contentType: "text/event-stream", headers: sseHeaders })
  })
