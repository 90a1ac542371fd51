// Runtime `inline`: the agent module is imported into SAM's own process and its handlers are
// called directly: no IPC, no isolation, lowest cost. For trusted agents and embedding. The
// lifecycle, capability checks, timeouts and health() are the same as for the other runtimes.

import { Effect, Scope } from "effect"
import { type AgentDefinition, descriptionsOf, handlerOf, validateInput } from "../../../agent/defineAgent.ts"
import { logInvocationFailure } from "../../../agent/describeError.ts"
import { importAgent } from "../../../agent/loadAgent.ts"
import { isAsyncIterable } from "../../capabilities/capability.ts"
import { commonJsHint } from "../../moduleFormatHint.ts"
import type { StopSpec } from "../../unitSpec.ts"
import { type Driver, DriverError, type DriverFact, type ExitInfo } from "../driver.ts"
import { admitCapabilities, capabilityProviders, raceSignal } from "./agentCapabilities.ts"
import type { CallHost } from "./agentConnection.ts"
import { InlineAgentState } from "./inlineAgentContext.ts"
import { prepareAgent } from "./prepareAgent.ts"

export const inlineAgentDriver = (calls: CallHost | undefined): Driver => ({
  name: "agent:inline",
  start: (ctx) =>
    Effect.gen(function* () {
      const unit = ctx.spec.id
      // prepareAgent resolved the module file already: import that (no second lookup per instance).
      const { agent, entry } = yield* prepareAgent(ctx, undefined, "on-first-use")
      const fail = (what: string, failure?: "setup") => (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error)
        // Inline, the module is SAM's own import: Node keeps a package.json it has read.
        const hint = commonJsHint(message, entry, ", then restart SAM: Node keeps a package.json it has read")
        return new DriverError({
          unit,
          message: `${what}: ${message}${hint}`,
          ...(failure === undefined ? {} : { failure }),
        })
      }
      const definition = yield* Effect.tryPromise({
        // A watched agent restarts to run its edited code: its entry is imported afresh.
        try: () => importAgent(entry, { fresh: ctx.spec.watch !== undefined }),
        catch: fail("cannot load agent"),
      })

      const state = new InlineAgentState(ctx, agent.dataDir, agent.environment, agent.config, calls)
      const { context } = state
      yield* Effect.tryPromise({
        try: () => Promise.resolve(definition.setup?.(context)),
        catch: fail("setup failed", "setup"),
      })
      const routed = yield* admitCapabilities(ctx, Object.keys(definition.capabilities))

      // It ends only when stopped (no process to die): no `exited` for the runner to wait on.
      let ended: ExitInfo | undefined
      // Only an agent with a health() hook has facts to report (and a timer to ask it).
      const health = definition.health ? watchHealth(definition, agent.heartbeatIntervalMs) : undefined
      const stop = (spec: StopSpec) =>
        Effect.gen(function* () {
          if (ended) return ended
          health?.stop()
          state.stop()
          if (spec.signal !== "SIGKILL" && definition.shutdown) {
            yield* Effect.promise(() =>
              Promise.resolve()
                .then(() => definition.shutdown?.(context))
                .catch((error: unknown) => context.logger.error("shutdown hook failed:", error)),
            ).pipe(Effect.timeoutOption(spec.graceMs))
          }
          ended ??= { code: 0, signal: null }
          return ended
        })
      // On the scope itself: Effect.addFinalizer would keep this fiber's whole context for it.
      yield* Scope.addFinalizerExit(yield* Scope.Scope, () =>
        Effect.asVoid(stop({ signal: "SIGKILL", graceMs: 0 })),
      )

      return {
        pid: undefined,
        port: undefined,
        url: undefined,
        stop,
        // Nothing to pause in SAM's own thread: a suspended agent is simply not routed to.
        suspend: Effect.void,
        resume: Effect.void,
        capabilities: capabilityProviders(
          ctx.spec,
          ctx.instance,
          routed,
          (capability, input, call) => {
            const { signal, id } = call
            const entry = definition.capabilities[capability]!
            // The handler's signal aborts with the caller's, or when the agent stops. (Not
            // AbortSignal.any on the long-lived lifetime signal: dependents would pile up on it.)
            const invocation = state.invocation()
            const onAbort = () => invocation.abort(signal.reason)
            if (signal.aborted) onAbort()
            else signal.addEventListener("abort", onAbort, { once: true })
            const done = () => {
              state.settled(invocation)
              signal.removeEventListener("abort", onAbort)
            }
            const output = raceSignal(
              validateInput(entry, input).then((valid) =>
                handlerOf(entry)(valid, {
                  ...context,
                  signal: invocation.signal,
                  invocationId: id,
                  // Its calls are nested in this invocation (depth, deadline), as in every runtime.
                  invoke: (callee, calleeInput, options) => state.call(callee, calleeInput, options, call),
                  invokeStream: (callee, calleeInput, options) =>
                    state.callStream(callee, calleeInput, options, call),
                }),
              ),
              invocation.signal,
            )
            return output.then(
              (value) => {
                if (isAsyncIterable(value)) return untilDone(value, done)
                done()
                return value
              },
              (error: unknown) => {
                done()
                if (!invocation.signal.aborted) logInvocationFailure(context.logger, capability, error)
                throw error
              },
            )
          },
          undefined,
          descriptionsOf(definition),
        ),
        ...(health === undefined ? {} : { facts: health.subscribe }),
      }
    }),
})

/** A stream stays connected to its caller's signal until it is fully consumed or abandoned. */
async function* untilDone(source: AsyncIterable<unknown>, done: () => void) {
  try {
    yield* source
  } finally {
    done()
  }
}

/** The health() hook, asked every heartbeat interval; only agents that define one get a timer. */
const watchHealth = (definition: AgentDefinition, intervalMs: number) => {
  let listener: ((fact: DriverFact) => void) | undefined
  let healthy = true
  const timer = definition.health
    ? setInterval(async () => {
        let ok = true
        let detail = "health() returned false"
        try {
          const report = await definition.health?.()
          if (report === false) ok = false
          else if (typeof report === "object" && report !== null) {
            ok = report.ok
            detail = report.detail ?? detail
          }
        } catch (error) {
          ok = false
          detail = `health() threw: ${error instanceof Error ? error.message : String(error)}`
        }
        if (ok === healthy) return
        healthy = ok
        listener?.(
          ok
            ? { type: "PROBE_PASSED", detail: "healthy" }
            : { type: "PROBE_FAILED", detail: `unhealthy: ${detail}` },
        )
      }, intervalMs)
    : undefined
  timer?.unref()
  return {
    stop: () => clearInterval(timer),
    subscribe: (emit: (fact: DriverFact) => void) => {
      listener = emit
      return () => {
        listener = undefined
      }
    },
  }
}
