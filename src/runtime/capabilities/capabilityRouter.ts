// The seed's CapabilityResolver: picks a provider for each invocation (least in-flight first,
// skipping unavailable ones), queues with a bound when all are busy, fails fast when none can
// serve, and enforces the per-call deadline through the AbortSignal it hands the provider.
import { Data } from "effect"
import type { CapabilityErrorReason } from "../../agent/capabilityError.ts"
import {
  approximateSize,
  type CapabilityProvider,
  type InvokeOptions,
  type InvokeOutput,
  type InvokeResult,
  isAsyncIterable,
  maxCallDepth,
  streamOverCap,
} from "./capability.ts"

export class CapabilityError extends Data.TaggedError("CapabilityError")<{
  readonly capability: string
  /** not_found | unavailable | queue_full | timeout | cancelled | too_large | too_deep | failed (the agent SDK's too) */
  readonly reason: CapabilityErrorReason
  readonly message: string
  /** failed: the `code` of the error the handler threw, when it had a string one. */
  readonly code?: string
  /** The provider that served the call (an agent instance, `plugin:<name>`), once one was picked. */
  readonly agent?: string
  /** timeout: the agent's own resources.timeout_seconds ran out (not the request's deadline). */
  readonly agentLimit?: true
}> {}

export interface Entry {
  readonly provider: CapabilityProvider
  inFlight: number
}

/** How one invocation ended, for `observeInvocations` listeners (the metrics). */
export interface InvocationRecord {
  readonly capability: string
  /** ok, or the CapabilityError reason it failed with. */
  readonly result: "ok" | CapabilityError["reason"]
  /** From the call to its end, queueing included. */
  readonly durationSeconds: number
  /** The provider that served it (an agent instance key, `plugin:<name>`); absent when none was picked. */
  readonly provider?: string
}

export type InvocationListener = (record: InvocationRecord) => void

/** Why no running provider offers `capability` ("plugin hooky offers it but is failed: ..."), if known. */
export type WhyMissing = (capability: string) => string | undefined

/** A call's options as the router runs it: its place in its chain of calls and its deadline. */
interface RoutedCall extends InvokeOptions {
  /** The capabilities from the outermost call down to this one, this one last. */
  readonly chain: ReadonlyArray<string>
  /** When its deadline passes (epoch ms), if it has one: what its provider's nested calls inherit. */
  readonly deadline: number | undefined
  /** The parent's capability, when this call's deadline is what was left of the parent's. */
  readonly inherited?: string
}

/** Place a call in its chain; a nested call gets at most what is left of its parent's deadline. */
const routedCall = (capability: string, options: InvokeOptions): RoutedCall => {
  const { parent, timeoutMs } = options
  const chain = parent ? [...parent.chain, capability] : [capability]
  const now = Date.now()
  const own = timeoutMs === undefined ? undefined : now + timeoutMs
  if (parent?.deadline === undefined || (own !== undefined && own <= parent.deadline))
    return { ...options, chain, deadline: own }
  return {
    ...options,
    timeoutMs: Math.max(0, Math.round(parent.deadline - now)),
    chain,
    deadline: parent.deadline,
    ...(parent.chain.length === 0 ? {} : { inherited: parent.chain[parent.chain.length - 1]! }),
  }
}

interface Waiter {
  readonly wake: () => void
}

let nextInvocation = 0
/** Reason of the signal of a call that completed (one object: an Error per call is costly). */
const finished = new Error("invocation finished")

export class CapabilityRouter {
  private readonly providers = new Map<string, Entry[]>()
  private readonly waiters = new Map<string, Waiter[]>()
  /** Where the next search starts, per capability: ties go round-robin. */
  private readonly cursors = new Map<string, number>()
  /** The description the last provider of each capability registered with (kept once it is withdrawn). */
  private readonly descriptions = new Map<string, string | undefined>()
  private readonly maxQueue: number
  private readonly explainers = new Set<WhyMissing>()
  /** A hint for a capability nothing offers nor declares (an agent that offers it undeclared). */
  private readonly hintMissing: WhyMissing | undefined
  private readonly invocationListeners = new Set<InvocationListener>()

  /** `whyMissing`: the first explainer (see `explainMissing`). */
  constructor(options: { maxQueue?: number; whyMissing?: WhyMissing; hintMissing?: WhyMissing } = {}) {
    this.maxQueue = options.maxQueue ?? 100
    if (options.whyMissing) this.explainers.add(options.whyMissing)
    this.hintMissing = options.hintMissing
  }

  /**
   * Explain a capability no running provider offers: a clause naming the providers that are down
   * (configured agents, plugins that offered it) makes the call `unavailable` instead of
   * `not_found`. Returns the removal function.
   */
  explainMissing(whyMissing: WhyMissing): () => void {
    this.explainers.add(whyMissing)
    return () => {
      this.explainers.delete(whyMissing)
    }
  }

  /** Offer `capability` through `provider`; returns the withdrawal function. */
  register(capability: string, provider: CapabilityProvider): () => void {
    const list = this.providers.get(capability) ?? []
    const entry: Entry = { provider, inFlight: 0 }
    list.push(entry)
    this.providers.set(capability, list)
    this.descriptions.set(capability, provider.description)
    this.wake(capability)
    return () => {
      const current = this.providers.get(capability)
      if (!current) return
      const index = current.indexOf(entry)
      if (index >= 0) current.splice(index, 1)
      if (current.length === 0) this.providers.delete(capability)
    }
  }

  /** Capability names with their providers, for status surfaces. */
  list(): ReadonlyArray<{
    capability: string
    providers: ReadonlyArray<{ id: string; available: boolean; inFlight: number }>
  }> {
    return [...this.providers.entries()].map(([capability, entries]) => ({
      capability,
      providers: entries.map((e) => ({
        id: e.provider.id,
        available: e.provider.available?.() ?? true,
        inFlight: e.inFlight,
      })),
    }))
  }

  /**
   * What `capability` does, as its providers describe it: the first of those offering it now that
   * has a description, else what the last one to offer it said (undefined: none ever did).
   */
  description(capability: string): string | undefined {
    for (const entry of this.providers.get(capability) ?? [])
      if (entry.provider.description !== undefined) return entry.provider.description
    return this.descriptions.get(capability)
  }

  has(capability: string): boolean {
    return this.providers.has(capability)
  }

  /** Be told how every invocation ended (result, duration, provider); returns the unsubscribe function. */
  observeInvocations(listener: InvocationListener): () => void {
    this.invocationListeners.add(listener)
    return () => {
      this.invocationListeners.delete(listener)
    }
  }

  private record(capability: string, began: number, error: unknown, provider: string | undefined): void {
    if (this.invocationListeners.size === 0) return
    const record: InvocationRecord = {
      capability,
      result: error === undefined ? "ok" : error instanceof CapabilityError ? error.reason : "failed",
      durationSeconds: (performance.now() - began) / 1000,
      ...(provider === undefined ? {} : { provider }),
    }
    for (const listener of this.invocationListeners) {
      try {
        listener(record)
      } catch {
        // An observer must never change the outcome of a call.
      }
    }
  }

  /**
   * Invoke and collect the whole output (a stream is gathered into an array of chunks, up to
   * maxStreamBytes and maxStreamChunks: past them the stream is cancelled and the call fails `too_large`).
   */
  async invoke(capability: string, input: unknown, invokeOptions: InvokeOptions = {}): Promise<InvokeResult> {
    const began = performance.now()
    const options = routedCall(capability, invokeOptions)
    let dispatched: Awaited<ReturnType<CapabilityRouter["dispatch"]>>
    try {
      dispatched = await this.dispatch(capability, input, options)
    } catch (error) {
      this.record(capability, began, error, undefined)
      throw error
    }
    const { agent, output, release } = dispatched
    try {
      // `output` settles with a value or a stream; a stream is gathered into its chunks.
      const settled = await output
      const value = isAsyncIterable(settled) ? await collect(capability, agent, settled) : settled
      this.record(capability, began, undefined, agent)
      return { output: value, agent, duration_ms: Math.round(performance.now() - began) }
    } catch (error) {
      const failure = this.failure(capability, error, options, agent)
      this.record(capability, began, failure, agent)
      throw failure
    } finally {
      release()
    }
  }

  /** Invoke and yield chunks as they come (a plain value is one chunk). */
  async *stream(
    capability: string,
    input: unknown,
    invokeOptions: InvokeOptions = {},
  ): AsyncGenerator<unknown, string> {
    const began = performance.now()
    const options = routedCall(capability, invokeOptions)
    let dispatched: Awaited<ReturnType<CapabilityRouter["dispatch"]>>
    try {
      dispatched = await this.dispatch(capability, input, options)
    } catch (error) {
      this.record(capability, began, error, undefined)
      throw error
    }
    const { agent, output, release } = dispatched
    let failure: CapabilityError | undefined
    try {
      const value = await output
      if (isAsyncIterable(value)) for await (const chunk of value) yield chunk
      else yield value
      return agent
    } catch (error) {
      failure = this.failure(capability, error, options, agent)
      throw failure
    } finally {
      // A consumer that stops reading early (return()) ends the call as served.
      this.record(capability, began, failure, agent)
      release()
    }
  }

  private async dispatch(
    capability: string,
    input: unknown,
    options: RoutedCall,
  ): Promise<{ agent: string; output: Promise<InvokeOutput>; release: () => void }> {
    if (options.chain.length > maxCallDepth) throw tooDeep(capability, options.chain)
    const controller = new AbortController()
    const signals = [controller.signal]
    if (options.signal) signals.push(options.signal)
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs))
    const signal = AbortSignal.any(signals)
    // acquire() reserves the slot itself: a burst of calls must see each other's picks.
    const entry = await this.acquire(capability, signal, options)
    let released = false
    const release = () => {
      if (released) return
      released = true
      entry.inFlight--
      controller.abort(finished)
      this.wake(capability)
    }
    const id = `inv-${++nextInvocation}`
    const output = Promise.resolve()
      .then(() =>
        entry.provider.invoke(input, {
          signal,
          id,
          chain: options.chain,
          ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
        }),
      )
      .then((value) => (isAsyncIterable(value) ? abortable(value, signal) : value))
    return { agent: entry.provider.id, output: raceAbort(output, signal), release }
  }

  private async acquire(capability: string, signal: AbortSignal, options: RoutedCall): Promise<Entry> {
    while (true) {
      const entries = this.providers.get(capability)
      if (!entries || entries.length === 0) {
        const why = [...this.explainers].flatMap((explain) => explain(capability) ?? [])
        if (why.length > 0)
          throw new CapabilityError({
            capability,
            reason: "unavailable",
            message: `capability "${capability}" is unavailable: ${why.join("; ")}`,
          })
        const hint = this.hintMissing?.(capability)
        throw new CapabilityError({
          capability,
          reason: "not_found",
          message: `no agent or plugin offers capability "${capability}"${hint === undefined ? "" : `: ${hint}`}`,
        })
      }
      const start = this.cursors.get(capability) ?? 0
      const pick = pickProvider(entries, start)
      if (pick === "unavailable") {
        const ids = entries.map((e) => e.provider.id)
        const named =
          ids.length > 5 ? `${ids.slice(0, 5).join(", ")} and ${ids.length - 5} more` : ids.join(", ")
        throw new CapabilityError({
          capability,
          reason: "unavailable",
          message: `capability "${capability}" has providers but none is ready (${named})`,
        })
      }
      if (pick !== "busy") {
        this.cursors.set(capability, (entries.indexOf(pick) + 1) % entries.length)
        pick.inFlight++
        return pick
      }
      const queue = this.waiters.get(capability) ?? []
      const limit = queueLimit(entries, this.maxQueue)
      if (queue.length >= limit) {
        throw new CapabilityError({
          capability,
          reason: "queue_full",
          message:
            limit === 0
              ? `capability "${capability}" is busy: its providers take no queued calls (max_queue 0)`
              : `capability "${capability}" is busy: ${queue.length} calls already queued (limit ${limit})`,
        })
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { wake: resolve }
        queue.push(waiter)
        this.waiters.set(capability, queue)
        signal.addEventListener(
          "abort",
          () => {
            const list = this.waiters.get(capability) ?? []
            this.waiters.set(
              capability,
              list.filter((w) => w !== waiter),
            )
            reject(this.failure(capability, signal.reason, options))
          },
          { once: true },
        )
      })
    }
  }

  private wake(capability: string): void {
    const queue = this.waiters.get(capability)
    const next = queue?.shift()
    next?.wake()
  }

  /** What a call failed with, as a CapabilityError naming the provider `agent` that served it, if any. */
  private failure(capability: string, error: unknown, options: RoutedCall, agent?: string): CapabilityError {
    const failure = this.cause(capability, error, options)
    if (agent === undefined || failure.agent !== undefined) return failure
    const { reason, message, code, agentLimit } = failure
    return new CapabilityError({
      capability: failure.capability,
      reason,
      message,
      agent,
      ...(code === undefined ? {} : { code }),
      ...(agentLimit === undefined ? {} : { agentLimit }),
    })
  }

  private cause(capability: string, error: unknown, options: RoutedCall): CapabilityError {
    if (error instanceof CapabilityError) return error
    if (error instanceof DOMException && error.name === "TimeoutError") {
      const inherited =
        options.inherited === undefined
          ? ""
          : `, what was left of the deadline of "${options.inherited}", the call its caller was serving`
      return new CapabilityError({
        capability,
        reason: "timeout",
        message: `capability "${capability}" timed out after ${options.timeoutMs} ms${inherited}`,
      })
    }
    if (options.signal?.aborted) {
      return new CapabilityError({
        capability,
        reason: "cancelled",
        message: `invocation of "${capability}" was cancelled`,
      })
    }
    const code = (error as { code?: unknown } | null)?.code
    const message = error instanceof Error ? error.message : String(error)
    // Node's own errors name their code already ("kill ESRCH"): said once.
    const named = typeof code !== "string" || message.includes(code) ? "" : ` (code ${code})`
    return new CapabilityError({
      capability,
      reason: "failed",
      message: `capability "${capability}" failed: ${message}${named}`,
      ...(typeof code === "string" ? { code } : {}),
    })
  }
}

/**
 * The provider with the fewest calls in flight among those available and below their
 * concurrency, searching from `start` so that ties rotate. An idle one ends the search at once:
 * with thousands of providers a call costs O(1) while any is idle.
 */
export const pickProvider = (
  entries: ReadonlyArray<Entry>,
  start: number,
): Entry | "unavailable" | "busy" => {
  let best: Entry | undefined
  let anyAvailable = false
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[(start + n) % entries.length]!
    if (!(entry.provider.available?.() ?? true)) continue
    anyAvailable = true
    if (entry.inFlight >= (entry.provider.concurrency ?? Number.POSITIVE_INFINITY)) continue
    if (entry.inFlight === 0) return entry
    if (!best || entry.inFlight < best.inFlight) best = entry
  }
  return best ?? (anyAvailable ? "busy" : "unavailable")
}

/**
 * How many calls may wait for a capability: the most any of its providers allows (an agent's
 * max_queue, each instance the same), the router's own limit for those that set none.
 */
const queueLimit = (entries: ReadonlyArray<Entry>, fallback: number): number => {
  let limit = -1
  for (const entry of entries) limit = Math.max(limit, entry.provider.maxQueue ?? fallback)
  return limit < 0 ? fallback : limit
}

/** The chunks of a stream, within the caps; past one, leaving the loop cancels the stream (return()). */
const collect = async (
  capability: string,
  agent: string,
  iterable: AsyncIterable<unknown>,
): Promise<unknown[]> => {
  const chunks: unknown[] = []
  let bytes = 0
  for await (const chunk of iterable) {
    bytes += approximateSize(chunk)
    const over = streamOverCap(bytes, chunks.length + 1)
    if (over !== undefined)
      throw tooLarge(capability, `${agent} streamed ${over}, the most SAM collects into one result`)
    chunks.push(chunk)
  }
  return chunks
}

/** A call one deeper than maxCallDepth: refused, naming its chain (a forged long one shortened). */
export const tooDeep = (capability: string, chain: ReadonlyArray<string>): CapabilityError => {
  const shown = chain.length <= maxCallDepth + 1 ? chain : [...chain.slice(0, 8), "…", ...chain.slice(-8)]
  return new CapabilityError({
    capability,
    reason: "too_deep",
    message:
      `capability "${capability}" was refused: its call chain ${shown.join(" → ")} is ${chain.length} calls deep, ` +
      `more than the ${maxCallDepth} SAM routes; a capability that calls itself, or agents that call each other ` +
      "in a cycle, must stop by themselves",
  })
}

/** A stream past the caps (capability.ts maxStreamBytes): what happened, and how to read a big result. */
export const tooLarge = (capability: string, what: string): CapabilityError =>
  new CapabilityError({
    capability,
    reason: "too_large",
    message: `capability "${capability}" was cancelled: ${what}; read a result this big as a stream (sam invoke --stream, Accept: text/event-stream, sam.capabilities.stream)`,
  })

const raceAbort = <A>(promise: Promise<A>, signal: AbortSignal): Promise<A> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener("abort", onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener("abort", onAbort)
        reject(e)
      },
    )
  })

async function* abortable(source: AsyncIterable<unknown>, signal: AbortSignal): AsyncGenerator<unknown> {
  const iterator = source[Symbol.asyncIterator]()
  try {
    while (true) {
      const next = await raceAbort(iterator.next(), signal)
      if (next.done) return
      yield next.value
    }
  } finally {
    await iterator.return?.()
  }
}
