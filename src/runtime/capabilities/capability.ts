// What SAM routes invocations to: a capability ("text_summarization") is offered by providers
// (agent instances over IPC, inline agents, plugin handlers). The router picks one per call.

export interface InvokeContext {
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
  readonly concurrency?: number
}

export interface InvokeOptions {
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface InvokeResult {
  readonly output: unknown
  /** The provider that served the call. */
  readonly agent: string
  readonly duration_ms: number
}

export const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value
