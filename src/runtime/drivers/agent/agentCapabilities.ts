// What an agent instance serves: config-declared capabilities checked against what the agent
// offers at ready (pure), and the router providers for them, each enforcing `timeout_seconds`
// by aborting the handler's signal and failing the caller with a timeout error.
import { Effect } from "effect"
import {
  type CapabilityProvider,
  type InvokeContext,
  type InvokeOutput,
  isAsyncIterable,
} from "../../capabilities/capability.ts"
import { CapabilityError } from "../../capabilities/capabilityRouter.ts"
import { instanceKey, type UnitSpec } from "../../unitSpec.ts"
import { type DriverContext, DriverError } from "../driver.ts"

export interface CapabilityCheck {
  /** Declared and offered: registered with the router. */
  readonly routed: ReadonlyArray<string>
  /** Declared in config but not offered by the agent: the start fails. */
  readonly missing: ReadonlyArray<string>
  /** Offered but not declared: reported as a warning, not routed. */
  readonly undeclared: ReadonlyArray<string>
}

export const checkCapabilities = (
  declared: ReadonlyArray<string>,
  offered: ReadonlyArray<string>,
): CapabilityCheck => ({
  routed: declared.filter((c) => offered.includes(c)),
  missing: declared.filter((c) => !offered.includes(c)),
  undeclared: offered.filter((c) => !declared.includes(c)),
})

export const missingMessage = (
  unit: string,
  check: CapabilityCheck,
  offered: ReadonlyArray<string>,
): string =>
  `agent ${unit} does not offer ${check.missing.map((c) => `"${c}"`).join(", ")} declared in its config ` +
  `(it offers ${offered.length === 0 ? "nothing" : offered.map((c) => `"${c}"`).join(", ")}): ` +
  `add the handler to its defineAgent({ capabilities }) or remove it from capabilities in the config`

export const undeclaredMessage = (unit: string, id: string, undeclared: ReadonlyArray<string>): string =>
  `agent ${unit} offers ${undeclared.map((c) => `"${c}"`).join(", ")} not declared in its config; ` +
  `no call reaches ${undeclared.length === 1 ? "it" : "them"} until listed in agents.${id}.capabilities`

/**
 * Decide what an instance that just reported ready will serve: a declared capability it does
 * not offer fails the start (the config promises something the agent cannot do); one it offers
 * without the config declaring it is a warning event and is not routed.
 */
export const admitCapabilities = (ctx: DriverContext, offered: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const unit = instanceKey(ctx.spec, ctx.instance)
    const check = checkCapabilities(ctx.spec.agent?.capabilities ?? [], offered)
    if (check.missing.length > 0) {
      return yield* new DriverError({ unit: ctx.spec.id, message: missingMessage(unit, check, offered) })
    }
    if (check.undeclared.length > 0) {
      const detail = undeclaredMessage(unit, ctx.spec.id, check.undeclared)
      ctx.log("stderr", `sam: ${detail}`)
      ctx.event?.("agent.undeclared-capability", { capabilities: check.undeclared, detail })
    }
    return check.routed
  })

/**
 * How one runtime runs a capability: resolves with a value or an async iterable of chunks. `ctx`
 * has the signal to stop on, and the chain and deadline the handler's own ctx.invoke calls inherit.
 */
export type RunCapability = (
  capability: string,
  input: unknown,
  ctx: InvokeContext,
) => Promise<InvokeOutput> | InvokeOutput

export const capabilityProviders = (
  spec: UnitSpec,
  instance: number,
  capabilities: ReadonlyArray<string>,
  run: RunCapability,
  available?: () => boolean,
  /** The description of each capability that has one (its definition's). */
  descriptions: Readonly<Record<string, string>> = {},
): ReadonlyArray<readonly [string, CapabilityProvider]> => {
  const key = instanceKey(spec, instance)
  const timeoutMs = spec.agent?.timeoutMs
  const concurrency = spec.agent?.concurrency
  const maxQueue = spec.agent?.maxQueue
  return capabilities.map((capability) => [
    capability,
    {
      id: key,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(maxQueue === undefined ? {} : { maxQueue }),
      ...(available === undefined ? {} : { available }),
      ...(Object.hasOwn(descriptions, capability) ? { description: descriptions[capability] } : {}),
      invoke: (input, ctx) =>
        timeoutMs === undefined
          ? run(capability, input, ctx)
          : withDeadline(capability, key, timeoutMs, ctx.signal, (signal) => {
              // The agent's own limit is a deadline too: the handler's calls get no longer.
              const limit = Date.now() + timeoutMs
              const deadline = ctx.deadline === undefined ? limit : Math.min(ctx.deadline, limit)
              return run(capability, input, { ...ctx, signal, deadline })
            }),
    },
  ])
}

/**
 * Run with a deadline covering the whole invocation (a stream included): past it the signal
 * given to `body` aborts with a timeout CapabilityError, which is what the caller receives.
 */
const withDeadline = async (
  capability: string,
  key: string,
  timeoutMs: number,
  callerSignal: AbortSignal,
  body: (signal: AbortSignal) => Promise<InvokeOutput> | InvokeOutput,
): Promise<InvokeOutput> => {
  const deadline = new AbortController()
  const timer = setTimeout(
    () =>
      deadline.abort(
        new CapabilityError({
          capability,
          reason: "timeout",
          message: `agent ${key} did not finish "${capability}" within its resources.timeout_seconds (${timeoutMs / 1000} s); the invocation was cancelled`,
          agentLimit: true,
        }),
      ),
    timeoutMs,
  )
  const signal = AbortSignal.any([callerSignal, deadline.signal])
  const output = await raceSignal(
    Promise.resolve().then(() => body(signal)),
    signal,
  ).catch((error: unknown) => {
    clearTimeout(timer)
    throw error
  })
  if (!isAsyncIterable(output)) {
    clearTimeout(timer)
    return output
  }
  return deadlineStream(output, signal, () => clearTimeout(timer))
}

async function* deadlineStream(source: AsyncIterable<unknown>, signal: AbortSignal, done: () => void) {
  const iterator = source[Symbol.asyncIterator]()
  try {
    while (true) {
      const next = await raceSignal(iterator.next(), signal)
      if (next.done) return
      yield next.value
    }
  } finally {
    done()
    await iterator.return?.()
  }
}

/** Settle with `promise`, or reject with the signal's reason as soon as it aborts. */
export const raceSignal = <A>(promise: Promise<A>, signal: AbortSignal): Promise<A> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener("abort", onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      },
    )
  })
