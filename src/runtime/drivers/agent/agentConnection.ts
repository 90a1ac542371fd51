// SAM's side of the agent IPC protocol (src/agent/protocol.ts), for one agent instance over any
// transport (child IPC channel, worker port): correlates invocations with their results and
// chunks, serves the agent's calls through the router, and records heartbeats and health.

import { callStreamWindow } from "../../../agent/callStream.ts"
import { asCapabilityError, CapabilityError } from "../../../agent/capabilityError.ts"
import { decodeFromAgentMessage, type FromAgent, preview, type ToAgent } from "../../../agent/protocol.ts"
import {
  approximateSize,
  type InvokeContext,
  type InvokeOptions,
  type InvokeOutput,
  type InvokeResult,
  streamOverCap,
} from "../../capabilities/capability.ts"
import { tooLarge } from "../../capabilities/capabilityRouter.ts"
import type { AgentLogLevel } from "../../logs/agentLogEntry.ts"
import { commonJsHint } from "../../moduleFormatHint.ts"

/** Where an agent's own calls go (the capability router). */
export interface CallHost {
  readonly invoke: (capability: string, input: unknown, options: InvokeOptions) => Promise<InvokeResult>
  /** Chunks as they come (a plain value is one); returns the agent that served it. */
  readonly stream: (
    capability: string,
    input: unknown,
    options: InvokeOptions,
  ) => AsyncGenerator<unknown, string>
}

export interface ConnectionOptions {
  readonly unit: string
  /** The agent's module file (a CommonJS-loaded .ts or .js is told how to fix it). */
  readonly entry?: string
  /** Throws when the transport is closed or the message cannot be serialized. */
  readonly send: (message: ToAgent) => void
  readonly log: (stream: "stdout" | "stderr", line: string) => void
  /** The agent's `ctx.logger` entries (DriverContext.logEntry: its level decides). */
  readonly logEntry: (level: AgentLogLevel, text: string) => void
  readonly calls: CallHost | undefined
  /** Reported as `agent.<type>` events on SAM's bus. */
  readonly event: (type: string, fields: Record<string, unknown>) => void
  /** The sandbox profile, named in permission errors. */
  readonly profile: string | undefined
  /**
   * Walled in by bubblewrap: whether `path` is outside what the agent sees. A module there is
   * not refused by the permission model but simply absent, and is reported as the refusal it is.
   */
  readonly outsideWalls?: (path: string) => boolean
}

interface Pending {
  readonly capability: string
  settle: { resolve: (output: InvokeOutput) => void; reject: (error: unknown) => void } | undefined
  stream: ChunkStream | undefined
  readonly cleanup: () => void
}

export class AgentConnection {
  private readonly options: ConnectionOptions
  private readonly pending = new Map<string, Pending>()
  private readonly calls = new Map<string, AbortController>()
  /** Streamed calls: how many chunks the agent has read, and who waits for it to read more. */
  private readonly readers = new Map<string, { acked: number; wake: (() => void) | undefined }>()
  private nextId = 0
  private closed: string | undefined
  private readyResolve: ((capabilities: ReadonlyArray<string>) => void) | undefined
  private readyReported = false
  /** Resolves with the capabilities the agent offers once it says ready. */
  readonly ready: Promise<ReadonlyArray<string>>
  lastHeartbeatAt: number = Date.now()
  heartbeats = 0
  heapUsedBytes = 0
  rssBytes = 0
  healthy = true
  healthDetail: string | undefined
  /** What the agent's ready said of its capabilities: the description of each that has one. */
  descriptions: Readonly<Record<string, string>> = {}
  /** The last error the agent logged (explains a failed start). */
  lastError: string | undefined
  /** Its setup threw: the start failed in the agent's own code (a `setup` failure, not a spawn's). */
  setupFailed = false
  dropped = 0

  constructor(options: ConnectionOptions) {
    this.options = options
    this.ready = new Promise((resolve) => {
      this.readyResolve = resolve
    })
  }

  get inFlight(): number {
    return this.pending.size
  }

  /** Handle one raw message from the agent; malformed ones are logged and dropped. */
  receive(raw: unknown): void {
    const decoded = decodeFromAgentMessage(raw)
    if (!decoded.ok) {
      this.dropped++
      const detail = `dropped a malformed message from agent ${this.options.unit} (${decoded.error}): ${preview(raw)}`
      this.options.log("stderr", `sam: ${detail}`)
      this.options.event("protocol-error", { detail })
      return
    }
    this.handle(decoded.message)
  }

  private handle(message: FromAgent): void {
    switch (message.type) {
      case "ready":
        if (this.readyReported) {
          this.options.log("stderr", "sam: ignored a second ready message")
          return
        }
        this.readyReported = true
        if (message.descriptions) this.descriptions = message.descriptions
        this.readyResolve?.(message.capabilities)
        return
      case "heartbeat":
        this.lastHeartbeatAt = Date.now()
        this.heartbeats++
        this.heapUsedBytes = message.heapUsedBytes
        this.rssBytes = message.rssBytes
        this.healthy = message.healthy
        this.healthDetail = message.detail
        return
      case "log":
        if (message.level === "error") this.lastError = message.msg
        this.options.logEntry(message.level, message.msg)
        return
      case "result": {
        const pending = this.take(message.id)
        pending?.settle?.resolve(message.output)
        return
      }
      case "chunk": {
        const pending = this.pending.get(message.id)
        if (!pending) return
        if (!pending.stream) {
          const { capability } = pending
          const unit = this.options.unit
          pending.stream = new ChunkStream(
            () => this.cancel(message.id),
            (over) => tooLarge(capability, `its reader fell behind ${unit}'s stream by ${over}`),
          )
          pending.settle?.resolve(pending.stream)
          pending.settle = undefined
        }
        pending.stream.push(message.chunk)
        return
      }
      case "end": {
        const pending = this.take(message.id)
        if (!pending) return
        if (pending.stream) pending.stream.end()
        else pending.settle?.resolve(ChunkStream.empty())
        return
      }
      case "error": {
        const pending = this.take(message.id)
        if (!pending) return
        // The handler's own `code` goes on to the caller (CapabilityError.code, the API's `code`).
        const error = Object.assign(
          new Error(this.describeFailure(pending.capability, message.message, message.code)),
          message.code === undefined ? {} : { code: message.code },
        )
        if (pending.stream) pending.stream.fail(error)
        else pending.settle?.reject(error)
        return
      }
      case "call":
        void this.serveCall(message)
        return
      case "cancel":
        this.calls.get(message.id)?.abort(new Error("cancelled by the agent"))
        return
      case "call-ack": {
        const reader = this.readers.get(message.id)
        if (!reader) return
        reader.acked += message.chunks
        reader.wake?.()
        return
      }
      case "start-failed": {
        const hidden = this.hiddenByWalls(message.message, message.code)
        const detail =
          message.code === "ERR_ACCESS_DENIED"
            ? this.permissionDenied({ during: "start" }, `${message.message}; ${startDenialFix}`)
            : hidden !== undefined
              ? this.permissionDenied(
                  { during: "start" },
                  `FileSystemRead ${hidden}; it is outside the sandbox's walls, so the agent cannot see it ` +
                    `(${message.message}); ${startDenialFix}`,
                )
              : `${message.message}${this.options.entry === undefined ? "" : commonJsHint(message.message, this.options.entry)}`
        this.lastError = `failed to start: ${detail}`
        if (message.during === "setup") this.setupFailed = true
        this.options.log("stderr", `error: ${this.lastError}`)
        return
      }
    }
  }

  /**
   * Invoke `capability` on the agent. Resolves with the value, or with an async iterable of
   * chunks as soon as the first chunk arrives; `signal` cancels it on both sides.
   */
  invoke(capability: string, input: unknown, call: InvokeContext): Promise<InvokeOutput> {
    const { signal } = call
    if (this.closed) return Promise.reject(new Error(this.closed))
    if (signal.aborted) return Promise.reject(signal.reason)
    const id = `i${++this.nextId}`
    return new Promise<InvokeOutput>((resolve, reject) => {
      const onAbort = () => {
        const pending = this.take(id)
        if (!pending) return
        this.trySend({ type: "cancel", id })
        if (pending.stream) pending.stream.fail(signal.reason)
        else pending.settle?.reject(signal.reason)
      }
      signal.addEventListener("abort", onAbort, { once: true })
      this.pending.set(id, {
        capability,
        settle: { resolve, reject },
        stream: undefined,
        cleanup: () => signal.removeEventListener("abort", onAbort),
      })
      try {
        this.options.send({
          type: "invoke",
          id,
          capability,
          input,
          // A call from outside any agent has the chain [capability]: not sent.
          ...(call.chain.length > 1 ? { chain: call.chain } : {}),
          ...(call.deadline === undefined ? {} : { deadline: call.deadline }),
        })
      } catch (error) {
        this.take(id)
        reject(
          new Error(`cannot send the input of "${capability}" to agent ${this.options.unit}: ${text(error)}`),
        )
      }
    })
  }

  /** Fail everything still pending (the agent is gone or stopping). */
  close(reason: string): void {
    if (this.closed) return
    this.closed = reason
    for (const id of [...this.pending.keys()]) {
      const pending = this.take(id)
      const error = new Error(reason)
      if (pending?.stream) pending.stream.fail(error)
      else pending?.settle?.reject(error)
    }
    for (const controller of this.calls.values()) controller.abort(new Error(reason))
    this.calls.clear()
  }

  private take(id: string): Pending | undefined {
    const pending = this.pending.get(id)
    if (!pending) return undefined
    this.pending.delete(id)
    pending.cleanup()
    return pending
  }

  private cancel(id: string): void {
    if (this.take(id)) this.trySend({ type: "cancel", id })
  }

  private trySend(message: ToAgent): void {
    try {
      this.options.send(message)
    } catch {
      // Transport closed: the agent is gone, nothing to cancel.
    }
  }

  /** The module a walled agent failed to load because it lies outside its walls, if that is why. */
  private hiddenByWalls(message: string, code: string | undefined): string | undefined {
    if (!this.options.outsideWalls || (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND"))
      return undefined
    const path = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1]
    return path?.startsWith("/") && this.options.outsideWalls(path) ? path : undefined
  }

  private describeFailure(capability: string, message: string, code: string | undefined): string {
    if (code !== "ERR_ACCESS_DENIED") return message
    const detail = this.permissionDenied({ capability }, message)
    this.options.log("stderr", `sam: ${capability}: ${detail}`)
    return detail
  }

  /** Name the profile that refused, and publish `agent.permission-denied` with where it happened. */
  private permissionDenied(where: { capability: string } | { during: "start" }, message: string): string {
    const profile = this.options.profile ?? "sandbox"
    const detail = `permission denied by the "${profile}" security profile: ${message}`
    this.options.event("permission-denied", { ...where, detail })
    return detail
  }

  private async serveCall(call: Extract<FromAgent, { type: "call" }>): Promise<void> {
    const host = this.options.calls
    if (!host) {
      this.trySend(callFailed(call.id, callsNotRouted(call.capability)))
      return
    }
    const controller = new AbortController()
    this.calls.set(call.id, controller)
    const options: InvokeOptions = {
      signal: controller.signal,
      ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
      // Made by a handler: nested in the invocation it serves (its depth, what is left of its deadline).
      ...(call.chain === undefined
        ? {}
        : {
            parent: {
              chain: call.chain,
              ...(call.deadline === undefined ? {} : { deadline: call.deadline }),
            },
          }),
    }
    try {
      if (call.stream === true) return await this.serveStreamedCall(call, host, options, controller.signal)
      const result = await host.invoke(call.capability, call.input, options)
      if (!controller.signal.aborted) {
        try {
          this.options.send({ type: "call-result", id: call.id, output: result.output })
        } catch (error) {
          this.trySend({
            type: "call-result",
            id: call.id,
            error: `result cannot be sent: ${text(error)}`,
            reason: "failed",
            agent: result.agent,
          })
        }
      }
    } catch (error) {
      if (!controller.signal.aborted)
        this.trySend(callFailed(call.id, asCapabilityError(call.capability, error)))
    } finally {
      this.calls.delete(call.id)
      this.readers.delete(call.id)
    }
  }

  /**
   * A `call` with `stream: true`: each chunk as a `call-chunk`, at most callStreamWindow ahead of
   * what the agent has read (the rest waits in the router's stream, within its caps), then a
   * `call-result` without output. Throws what the call failed with.
   */
  private async serveStreamedCall(
    call: Extract<FromAgent, { type: "call" }>,
    host: CallHost,
    options: InvokeOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const reader: { acked: number; wake: (() => void) | undefined } = { acked: 0, wake: undefined }
    this.readers.set(call.id, reader)
    const chunks = host.stream(call.capability, call.input, options)
    let sent = 0
    let finished = false
    try {
      for (;;) {
        const next = await chunks.next()
        if (signal.aborted) return
        if (next.done) {
          finished = true
          this.trySend({ type: "call-result", id: call.id, agent: next.value })
          return
        }
        try {
          this.options.send({ type: "call-chunk", id: call.id, chunk: next.value })
        } catch (error) {
          this.trySend({
            type: "call-result",
            id: call.id,
            error: `a chunk cannot be sent: ${text(error)}`,
            reason: "failed",
          })
          return
        }
        sent++
        while (sent - reader.acked >= callStreamWindow) await untilWoken(reader, signal)
      }
    } finally {
      // Cancelled, or the chunk could not be sent: the stream ends in the agent serving it too.
      if (!finished) await chunks.return(undefined as never).catch(() => {})
    }
  }
}

/** Until the agent acknowledges more chunks (`call-ack`), or the call is cancelled. */
const untilWoken = (reader: { wake: (() => void) | undefined }, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      reader.wake = undefined
      reject(signal.reason)
    }
    signal.addEventListener("abort", onAbort, { once: true })
    reader.wake = () => {
      reader.wake = undefined
      signal.removeEventListener("abort", onAbort)
      resolve()
    }
  })

/**
 * Chunks of one streamed invocation, consumed once as an async iterable. The agent sends as fast
 * as it can; what its reader has not taken yet is held here, up to the caps of capability.ts
 * (maxStreamBytes): a reader that falls further behind (an SSE client on a slow link) fails the
 * stream with `overflow`'s error, and the agent is told to stop.
 */
export class ChunkStream implements AsyncIterable<unknown> {
  private readonly items: Array<{ readonly chunk: unknown; readonly size: number }> = []
  private bufferedBytes = 0
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined
  private done = false
  private error: { readonly reason: unknown } | undefined
  private readonly onReturn: () => void
  private readonly overflow: (over: string) => unknown

  constructor(
    onReturn: () => void,
    overflow: (over: string) => unknown = (over) => new Error(`stream held ${over}`),
  ) {
    this.onReturn = onReturn
    this.overflow = overflow
  }

  static empty(): ChunkStream {
    const stream = new ChunkStream(() => {})
    stream.end()
    return stream
  }

  push(chunk: unknown): void {
    if (this.done) return
    if (this.waiter) {
      this.waiter.resolve({ value: chunk, done: false })
      this.waiter = undefined
      return
    }
    const size = approximateSize(chunk)
    this.items.push({ chunk, size })
    this.bufferedBytes += size
    const over = streamOverCap(this.bufferedBytes, this.items.length)
    if (over === undefined) return
    this.items.length = 0
    this.bufferedBytes = 0
    this.fail(this.overflow(over))
    this.onReturn()
  }

  end(): void {
    this.done = true
    this.waiter?.resolve({ value: undefined, done: true })
    this.waiter = undefined
  }

  fail(reason: unknown): void {
    if (this.done) return
    this.done = true
    this.error = { reason }
    this.waiter?.reject(reason)
    this.waiter = undefined
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => {
        const item = this.items.shift()
        if (item !== undefined) {
          this.bufferedBytes -= item.size
          return Promise.resolve({ value: item.chunk, done: false })
        }
        if (this.error) return Promise.reject(this.error.reason)
        if (this.done) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject }
        })
      },
      return: () => {
        // The consumer stopped early: tell the agent to stop producing.
        if (!this.done) {
          this.done = true
          this.onReturn()
        }
        return Promise.resolve({ value: undefined, done: true })
      },
    }
  }
}

/** What a sandboxed agent may read, and the way out, for a refusal while it loads. */
const startDenialFix =
  "a sandboxed agent may read only its own directory, its data dir and SAM's agent SDK (sam/agent): " +
  "keep what it imports inside its directory (its own node_modules), or use security_profile: trusted"

/** A call from an agent of a SAM without a router for them (a driver built without calls). */
export const callsNotRouted = (capability: string): CapabilityError =>
  new CapabilityError({
    capability,
    reason: "unavailable",
    message: "this SAM does not route calls from agents",
  })

/** The answer to a failed call: what the agent's CapabilityError is made of. */
const callFailed = (id: string, failure: CapabilityError): Extract<ToAgent, { type: "call-result" }> => ({
  type: "call-result",
  id,
  error: failure.message,
  reason: failure.reason,
  ...(failure.code === undefined ? {} : { code: failure.code }),
  ...(failure.agent === undefined ? {} : { agent: failure.agent }),
})

const text = (error: unknown): string => (error instanceof Error ? error.message : String(error))
