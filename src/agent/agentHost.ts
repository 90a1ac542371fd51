// The agent side of the IPC protocol, independent of the transport: runs setup, answers
// invocations (values, streams, errors), forwards calls to SAM, and sends heartbeats from a
// timer so that SAM notices a blocked event loop. childMain.ts and workerMain.ts plug a port in.
import { format } from "node:util"
import { CallStream, callStreamWindow } from "./callStream.ts"
import { CapabilityError } from "./capabilityError.ts"
import {
  type AgentContext,
  type AgentDefinition,
  type AgentLogger,
  type CallOptions,
  descriptionsOf,
  handlerOf,
  type InvocationContext,
  validateInput,
} from "./defineAgent.ts"
import { describeError, errorCode, errorMessage, logInvocationFailure } from "./describeError.ts"
import type { FromAgent, LogLevel, ToAgent } from "./protocol.ts"
import { decodeToAgentMessage, preview } from "./toAgentDecoder.ts"

/** How the host talks to SAM: a child's IPC channel or a worker's parentPort. */
export interface AgentPort {
  /** Throws when the message cannot be serialized (DataCloneError). */
  readonly send: (message: FromAgent) => void
  readonly onMessage: (listener: (raw: unknown) => void) => () => void
}

export type InitMessage = Extract<ToAgent, { type: "init" }>

/** The first thing an agent entry does: wait for SAM's init; anything else first is reported and dropped. */
export const waitForInit = (port: AgentPort, dropped: (detail: string) => void): Promise<InitMessage> =>
  new Promise((resolve) => {
    const off = port.onMessage((raw) => {
      const decoded = decodeToAgentMessage(raw)
      if (decoded.ok && decoded.message.type === "init") {
        off()
        resolve(decoded.message)
      } else {
        dropped(
          `dropped a message before init: ${decoded.ok ? decoded.message.type : decoded.error} ${preview(raw)}`,
        )
      }
    })
  })

/** What a call made by a handler carries of the invocation it serves (the `call` message's fields). */
type CallPlace = Pick<Extract<FromAgent, { type: "call" }>, "chain" | "deadline">

interface PendingCall {
  readonly capability: string
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
}

export class AgentHost {
  private readonly definition: AgentDefinition
  private readonly port: AgentPort
  private readonly init: InitMessage
  private readonly env: Readonly<Record<string, string | undefined>>
  private readonly inFlight = new Map<string, AbortController>()
  private readonly calls = new Map<string, PendingCall>()
  /** Streamed calls (`invokeStream`) still being read. */
  private readonly streams = new Map<
    string,
    { readonly capability: string; readonly stream: CallStream; readonly off: () => void }
  >()
  private nextCall = 0
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private stopping: Promise<void> | undefined
  private readonly offMessages: () => void
  private readonly onShutdown: () => void
  readonly logger: AgentLogger
  readonly context: AgentContext

  constructor(options: {
    definition: AgentDefinition
    port: AgentPort
    init: InitMessage
    env: Readonly<Record<string, string | undefined>>
    /** Called once a `shutdown` message has been honoured (the worker exits). */
    onShutdown?: () => void
  }) {
    this.definition = options.definition
    this.port = options.port
    this.init = options.init
    this.env = options.env
    this.onShutdown = options.onShutdown ?? (() => {})
    this.logger = portLogger(this.port)
    this.context = {
      agent: {
        id: this.init.unit,
        instance: this.init.instance,
        dataDir: this.init.dataDir,
        persona: this.init.persona,
      },
      logger: this.logger,
      config: this.init.config,
      env: this.env,
      invoke: (capability, input, callOptions) => this.call(capability, input, callOptions),
      invokeStream: (capability, input, callOptions) => this.callStream(capability, input, callOptions),
    }
    this.offMessages = this.port.onMessage((raw) => this.receive(raw))
  }

  /** Start heartbeats, run setup, report ready with the capabilities offered. */
  async start(): Promise<void> {
    this.startHeartbeat()
    await this.definition.setup?.(this.context)
    const descriptions = descriptionsOf(this.definition)
    this.send({
      type: "ready",
      capabilities: Object.keys(this.definition.capabilities),
      ...(Object.keys(descriptions).length === 0 ? {} : { descriptions }),
    })
  }

  /** Abort what is running, run the shutdown hook, stop heartbeats. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const controller of this.inFlight.values()) controller.abort(new Error("agent is stopping"))
      for (const call of this.calls.values())
        call.reject(
          new CapabilityError({
            capability: call.capability,
            reason: "cancelled",
            message: `invocation of "${call.capability}" was cancelled: agent ${this.init.unit} is stopping`,
          }),
        )
      this.calls.clear()
      for (const { capability, stream, off } of this.streams.values()) {
        off()
        stream.fail(
          new CapabilityError({
            capability,
            reason: "cancelled",
            message: `invocation of "${capability}" was cancelled: agent ${this.init.unit} is stopping`,
          }),
        )
      }
      this.streams.clear()
      try {
        await this.definition.shutdown?.(this.context)
      } catch (error) {
        this.logger.error("shutdown hook failed:", error)
      } finally {
        if (this.heartbeat) clearInterval(this.heartbeat)
        this.offMessages()
      }
    })()
    return this.stopping
  }

  private startHeartbeat(): void {
    const beat = async () => {
      let healthy = true
      let detail: string | undefined
      try {
        const report = await this.definition.health?.()
        if (report === false) healthy = false
        else if (typeof report === "object" && report !== null) {
          healthy = report.ok
          detail = report.detail
        }
      } catch (error) {
        healthy = false
        detail = `health() threw: ${errorMessage(error)}`
      }
      const memory = process.memoryUsage()
      this.send({
        type: "heartbeat",
        heapUsedBytes: memory.heapUsed,
        rssBytes: memory.rss,
        healthy,
        ...(detail === undefined ? {} : { detail }),
      })
    }
    void beat()
    this.heartbeat = setInterval(() => void beat(), this.init.heartbeatIntervalMs)
    this.heartbeat.unref()
  }

  private receive(raw: unknown): void {
    const decoded = decodeToAgentMessage(raw)
    if (!decoded.ok) {
      this.logger.warn(`dropped a malformed message from SAM (${decoded.error}): ${preview(raw)}`)
      return
    }
    const message = decoded.message
    switch (message.type) {
      case "invoke":
        void this.run(message)
        return
      case "cancel":
        this.inFlight.get(message.id)?.abort(new Error("invocation cancelled"))
        return
      case "call-chunk":
        this.streams.get(message.id)?.stream.push(message.chunk)
        return
      case "call-result": {
        const streamed = this.streams.get(message.id)
        if (streamed) {
          this.streams.delete(message.id)
          streamed.off()
          if (message.error === undefined) streamed.stream.end()
          else streamed.stream.fail(callFailure(streamed.capability, message))
          return
        }
        const call = this.calls.get(message.id)
        if (!call) return
        this.calls.delete(message.id)
        if (message.error === undefined) call.resolve(message.output)
        else call.reject(callFailure(call.capability, message))
        return
      }
      case "shutdown":
        void this.stop().then(this.onShutdown)
        return
      case "init":
        this.logger.warn("ignored a second init message")
        return
    }
  }

  private async run(message: Extract<ToAgent, { type: "invoke" }>): Promise<void> {
    const { id, capability: capabilityName, input } = message
    const capabilities = this.definition.capabilities
    if (!Object.hasOwn(capabilities, capabilityName)) {
      this.send({ type: "error", id, message: `agent ${this.init.unit} does not offer "${capabilityName}"` })
      return
    }
    const capability = capabilities[capabilityName]!
    const controller = new AbortController()
    this.inFlight.set(id, controller)
    const signal = controller.signal
    // The handler's calls are nested in this invocation: SAM counts their depth and bounds their deadline.
    const place: CallPlace = {
      chain: message.chain ?? [capabilityName],
      ...(message.deadline === undefined ? {} : { deadline: message.deadline }),
    }
    const ctx: InvocationContext = {
      ...this.context,
      signal,
      invocationId: id,
      invoke: (capability, callInput, callOptions) => this.call(capability, callInput, callOptions, place),
      invokeStream: (capability, callInput, callOptions) =>
        this.callStream(capability, callInput, callOptions, place),
    }
    try {
      const valid = await validateInput(capability, input)
      const output = await handlerOf(capability)(valid, ctx)
      if (isAsyncIterable(output)) {
        for await (const chunk of output) {
          if (signal.aborted) break
          if (!this.sendOutput({ type: "chunk", id, chunk })) return
        }
        if (!signal.aborted) this.send({ type: "end", id })
      } else if (!signal.aborted) {
        this.sendOutput({ type: "result", id, output })
      }
    } catch (error) {
      // After a cancel SAM has already answered the caller; a late error is of no interest.
      if (!signal.aborted) {
        logInvocationFailure(this.logger, capabilityName, error)
        this.send({ type: "error", id, message: describeError(error), ...errorCode(error) })
      }
    } finally {
      this.inFlight.delete(id)
    }
  }

  /** Send a result or chunk; an unserializable one becomes an error for the caller. */
  private sendOutput(message: Extract<FromAgent, { type: "result" | "chunk" }>): boolean {
    try {
      this.port.send(message)
      return true
    } catch (error) {
      this.send({
        type: "error",
        id: message.id,
        message: `the ${message.type === "chunk" ? "chunk" : "result"} cannot be sent to SAM: ${errorMessage(error)}`,
      })
      return false
    }
  }

  private send(message: FromAgent): void {
    try {
      this.port.send(message)
    } catch {
      // The channel is gone (SAM stopped us); nothing is left to tell.
    }
  }

  private call(
    capability: string,
    input: unknown,
    options: CallOptions = {},
    place: CallPlace = {},
  ): Promise<unknown> {
    const id = `call-${++this.nextCall}`
    return new Promise((resolve, reject) => {
      const cancelled = () => cancelledCall(capability)
      if (options.signal?.aborted) return reject(cancelled())
      const onAbort = () => {
        this.calls.delete(id)
        this.send({ type: "cancel", id })
        reject(cancelled())
      }
      options.signal?.addEventListener("abort", onAbort, { once: true })
      this.calls.set(id, {
        capability,
        resolve: (value) => {
          options.signal?.removeEventListener("abort", onAbort)
          resolve(value)
        },
        reject: (error) => {
          options.signal?.removeEventListener("abort", onAbort)
          reject(error)
        },
      })
      const unsent = this.sendCall(id, capability, input, options, place, false)
      if (unsent === undefined) return
      // Through the pending call's own reject, which also drops the abort listener.
      this.calls.get(id)?.reject(unsent)
      this.calls.delete(id)
    })
  }

  /** The `call` message; the CapabilityError to fail with when it cannot be sent. */
  private sendCall(
    id: string,
    capability: string,
    input: unknown,
    options: CallOptions,
    place: CallPlace,
    stream: boolean,
  ): CapabilityError | undefined {
    try {
      this.port.send({
        type: "call",
        id,
        capability,
        input,
        ...(stream ? { stream } : {}),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...place,
      })
      return undefined
    } catch (error) {
      return new CapabilityError({
        capability,
        reason: "failed",
        message: `cannot call "${capability}": ${errorMessage(error)}`,
      })
    }
  }

  /** ctx.invokeStream: a `call` answered chunk by chunk; the iterable is the handler's to read. */
  private callStream(
    capability: string,
    input: unknown,
    options: CallOptions = {},
    place: CallPlace = {},
  ): AsyncIterable<unknown> {
    const id = `call-${++this.nextCall}`
    const cancelled = () => cancelledCall(capability)
    const onAbort = () => {
      if (!this.streams.delete(id)) return
      this.send({ type: "cancel", id })
      stream.fail(cancelled())
    }
    const off = () => options.signal?.removeEventListener("abort", onAbort)
    const stream = new CallStream(
      {
        ack: (chunks) => this.send({ type: "call-ack", id, chunks }),
        cancel: () => {
          off()
          if (this.streams.delete(id)) this.send({ type: "cancel", id })
        },
      },
      callStreamWindow,
    )
    if (options.signal?.aborted) {
      stream.fail(cancelled())
      return stream
    }
    options.signal?.addEventListener("abort", onAbort, { once: true })
    this.streams.set(id, { capability, stream, off })
    const unsent = this.sendCall(id, capability, input, options, place, true)
    if (unsent !== undefined) {
      this.streams.delete(id)
      off()
      stream.fail(unsent)
    }
    return stream
  }
}

/** A call its signal cancelled, as SAM's router says it for an inline agent's: the same in every runtime. */
const cancelledCall = (capability: string): CapabilityError =>
  new CapabilityError({
    capability,
    reason: "cancelled",
    message: `invocation of "${capability}" was cancelled`,
  })

/** A failed call's answer as the CapabilityError `ctx.invoke` rejects with. */
const callFailure = (
  capability: string,
  message: Extract<ToAgent, { type: "call-result" }>,
): CapabilityError =>
  new CapabilityError({
    capability,
    reason: message.reason ?? "failed",
    message: message.error ?? "failed",
    code: message.code,
    agent: message.agent,
  })

const portLogger = (port: AgentPort): AgentLogger => {
  const log =
    (level: LogLevel) =>
    (message: string, ...details: unknown[]) => {
      try {
        port.send({ type: "log", level, msg: details.length === 0 ? message : format(message, ...details) })
      } catch {
        // No channel: nowhere to log to.
      }
    }
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") }
}

export const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value
