// What SAM routes invocations to: a capability ("text_summarization") is offered by providers
// (agent instances over IPC, inline agents, plugin handlers). The router picks one per call.

/**
 * Where a call sits among the calls agents make through SAM (ctx.invoke): what a nested call
 * inherits from the invocation whose handler makes it.
 */
export interface CallParent {
  /** The capabilities from the outermost call down to this one, this one last (its length is the depth). */
  readonly chain: ReadonlyArray<string>
  /** When this call's deadline passes (epoch ms), if it has one: a nested call gets no longer. */
  readonly deadline?: number | undefined
}

export interface InvokeContext extends CallParent {
  /** Aborted on caller cancel, deadline or provider shutdown. */
  readonly signal: AbortSignal
  /** Correlation id of this invocation. */
  readonly id: string
}

/** A value, or chunks of a streamed result. */
export type InvokeOutput = unknown | AsyncIterable<unknown>

export interface CapabilityProvider {
  /** Who serves: an agent id (`summaryAgent`, `summaryAgent#1`) or `plugin:<name>`. */
  readonly id: string
  readonly invoke: (input: unknown, ctx: InvokeContext) => Promise<InvokeOutput> | InvokeOutput
  /** False while the provider must not be routed to (suspended, unready). Default true. */
  readonly available?: () => boolean
  /** Concurrent invocations this provider accepts; further calls queue. Default unbounded. */
  readonly concurrency?: number | undefined
  /**
   * Calls that may wait for the capability while its providers are busy (an agent's max_queue);
   * the capability's queue holds the most any of its providers allows. Default the router's.
   */
  readonly maxQueue?: number | undefined
  /** What the capability does, in its author's words (an agent's CapabilityDefinition.description). */
  readonly description?: string | undefined
}

export interface InvokeOptions {
  readonly timeoutMs?: number | undefined
  readonly signal?: AbortSignal | undefined
  /**
   * The invocation whose handler makes this call (an agent's ctx.invoke; a provider's
   * InvokeContext fits): the call is one deeper, refused past maxCallDepth, and its deadline is
   * at most what is left of the parent's.
   */
  readonly parent?: CallParent | undefined
}

export interface InvokeResult {
  readonly output: unknown
  /** The provider that served the call. */
  readonly agent: string
  readonly duration_ms: number
}

export const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value

/**
 * The most SAM holds of one streamed result: what `invoke` collects into one array (an agent's
 * `ctx.invoke`, `sam.capabilities.invoke`, the API without `Accept: text/event-stream`), and what
 * a stream's reader may fall behind by. Past it the stream is cancelled in the agent and the call
 * fails `too_large`: SAM's memory is every unit's, and an agent must not be able to fill it.
 */
export const maxStreamBytes = 64 * 1024 * 1024

/** The most chunks of one streamed result SAM collects or holds unread (see maxStreamBytes). */
export const maxStreamChunks = 100_000

/**
 * The deepest chain of calls SAM routes: a call from outside (sam.invoke, the API) is depth 1, each
 * ctx.invoke made by a handler serving it one more. The next is refused `too_deep`: a capability
 * that calls itself, or a cycle of agents (a → b → a), would otherwise go on until a deadline.
 */
export const maxCallDepth = 16

/**
 * About how many bytes `chunk` takes: its JSON's length (what the API and the IPC carry), a
 * string's or a byte array's own. A value JSON cannot hold counts nothing here (it fails later).
 */
export const approximateSize = (chunk: unknown): number => {
  if (typeof chunk === "string") return chunk.length + 2
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength
  try {
    return JSON.stringify(chunk)?.length ?? 0
  } catch {
    return 0
  }
}

/** Whether `bytes` in `chunks` chunks is past the caps, and which, in words (undefined: within). */
export const streamOverCap = (bytes: number, chunks: number): string | undefined =>
  bytes > maxStreamBytes
    ? `more than ${maxStreamBytes / (1024 * 1024)} MiB`
    : chunks > maxStreamChunks
      ? `more than ${maxStreamChunks.toLocaleString("en-US")} chunks`
      : undefined
