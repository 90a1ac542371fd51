// The IPC protocol between SAM and an agent (child process or worker thread), as Effect Schemas.
// Both sides decode every message they receive; a malformed one is logged and dropped, so a
// buggy or hostile peer cannot crash the other side. See docs/AGENTS.md for the message flow.
// SAM's side: an agent process checks SAM's messages with toAgentDecoder.ts instead (no effect).
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { capabilityErrorReasons } from "./capabilityError.ts"
import { type Decoded, preview } from "./toAgentDecoder.ts"

export { type Decoded, preview }

const Id = Schema.String

// --- SAM → agent -----------------------------------------------------------------------------

/** First message to a fresh agent: what to load and how to behave. */
export const Init = Schema.Struct({
  type: Schema.Literal("init"),
  unit: Schema.String,
  instance: Schema.Number,
  /** Absolute path of the agent module (file or directory). */
  path: Schema.String,
  config: Schema.Record(Schema.String, Schema.Unknown),
  heartbeatIntervalMs: Schema.Number,
  dataDir: Schema.String,
  /** The agent's `persona` from the config (ctx.agent.persona); absent when it has none. */
  persona: Schema.optionalKey(Schema.String),
})

/**
 * Where an invocation sits among agents' calls: its handler's `call`s send them back, so that SAM
 * knows how deep they are and what is left of the deadline.
 */
const CallPlace = {
  /**
   * The capabilities from the outermost call down to this one, this one last; absent for a call
   * from outside any agent (then the chain is `[capability]`).
   */
  chain: Schema.optionalKey(Schema.Array(Schema.String)),
  /** When the invocation's deadline passes (epoch ms); absent: it has none. */
  deadline: Schema.optionalKey(Schema.Number),
}

/** Run `capability` with `input`; answered by result, or chunk…end, or error, all with `id`. */
export const Invoke = Schema.Struct({
  type: Schema.Literal("invoke"),
  id: Id,
  capability: Schema.String,
  input: Schema.Unknown,
  ...CallPlace,
})

/** Stop the operation `id` (an invocation SAM sent, or a call the agent made): abort its signal. */
export const Cancel = Schema.Struct({ type: Schema.Literal("cancel"), id: Id })

/**
 * The answer to an agent's `call`: `output`, or `error` (the message) when the call failed, with
 * the router's `reason` (absent from an older SAM: `failed`), the handler's `code` and the `agent`
 * that served it when known: what `ctx.invoke`'s CapabilityError carries.
 */
export const CallResult = Schema.Struct({
  type: Schema.Literal("call-result"),
  id: Id,
  output: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.Literals(capabilityErrorReasons)),
  code: Schema.optionalKey(Schema.String),
  agent: Schema.optionalKey(Schema.String),
})

/**
 * One chunk of the output of an agent's streamed call (`call` with `stream: true`), in order; the
 * stream ends with a `call-result` (no `output`; `error` when it failed). SAM sends at most
 * `callStreamWindow` (callStream.ts) chunks the agent has not acknowledged (`call-ack`).
 */
export const CallChunk = Schema.Struct({ type: Schema.Literal("call-chunk"), id: Id, chunk: Schema.Unknown })

/** Graceful stop for runtimes without signals (worker threads). */
export const Shutdown = Schema.Struct({ type: Schema.Literal("shutdown") })

export const ToAgent = Schema.Union([Init, Invoke, Cancel, CallResult, CallChunk, Shutdown])
export type ToAgent = typeof ToAgent.Type

// --- agent → SAM -----------------------------------------------------------------------------

/**
 * Setup finished; `capabilities` are the ones the agent really offers, `descriptions` their
 * definitions' `description`s (only those that have one).
 */
export const Ready = Schema.Struct({
  type: Schema.Literal("ready"),
  capabilities: Schema.Array(Schema.String),
  descriptions: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
})

/** Sent every heartbeat interval from a timer: its absence means the event loop is stuck. */
export const Heartbeat = Schema.Struct({
  type: Schema.Literal("heartbeat"),
  heapUsedBytes: Schema.Number,
  rssBytes: Schema.Number,
  /** What the agent's health() hook said (true when it has none). */
  healthy: Schema.Boolean,
  detail: Schema.optionalKey(Schema.String),
})

export const InvokeResult = Schema.Struct({ type: Schema.Literal("result"), id: Id, output: Schema.Unknown })
export const Chunk = Schema.Struct({ type: Schema.Literal("chunk"), id: Id, chunk: Schema.Unknown })
export const End = Schema.Struct({ type: Schema.Literal("end"), id: Id })
export const InvokeError = Schema.Struct({
  type: Schema.Literal("error"),
  id: Id,
  message: Schema.String,
  /** Node's error code when there is one (`ERR_ACCESS_DENIED` for a sandbox refusal). */
  code: Schema.optionalKey(Schema.String),
})

/**
 * The agent could not start: loading the SDK or the agent module, or its setup, failed. Sent
 * once, then the agent exits. `code` is Node's (`ERR_ACCESS_DENIED` when the sandbox refused).
 */
export const StartFailed = Schema.Struct({
  type: Schema.Literal("start-failed"),
  message: Schema.String,
  code: Schema.optionalKey(Schema.String),
  /** "setup": the module loaded and its setup threw (absent: loading the SDK or the module failed). */
  during: Schema.optionalKey(Schema.Literal("setup")),
})

export const LogLevel = Schema.Literals(["debug", "info", "warn", "error"])
export type LogLevel = typeof LogLevel.Type
export const Log = Schema.Struct({ type: Schema.Literal("log"), level: LogLevel, msg: Schema.String })

/**
 * The agent calls another capability through SAM (answered by call-result). Made by a handler, it
 * carries the `chain` and `deadline` of the invocation that handler serves (its chain being
 * `[capability]` when the invoke had none); made outside one (setup, a timer), neither.
 */
export const Call = Schema.Struct({
  type: Schema.Literal("call"),
  id: Id,
  capability: Schema.String,
  input: Schema.Unknown,
  timeoutMs: Schema.optionalKey(Schema.Number),
  /** true: answer with the output's chunks as they come (`call-chunk`…, then `call-result`). */
  stream: Schema.optionalKey(Schema.Boolean),
  ...CallPlace,
})

/** The agent has read `chunks` more chunks of its streamed call `id`: SAM may send as many more. */
export const CallAck = Schema.Struct({ type: Schema.Literal("call-ack"), id: Id, chunks: Schema.Number })

export const FromAgent = Schema.Union([
  Ready,
  Heartbeat,
  InvokeResult,
  Chunk,
  End,
  InvokeError,
  Log,
  Call,
  CallAck,
  Cancel,
  StartFailed,
])
export type FromAgent = typeof FromAgent.Type

const fromAgentTypes = [
  "ready",
  "heartbeat",
  "result",
  "chunk",
  "end",
  "error",
  "log",
  "call",
  "call-ack",
  "cancel",
  "start-failed",
]

const decoder = <A>(schema: Schema.Codec<A, unknown>, types: ReadonlyArray<string>) => {
  const decode = Schema.decodeUnknownResult(schema)
  return (raw: unknown): Decoded<A> => {
    // Name an unknown type plainly instead of listing every member of the union.
    const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined
    if (typeof type !== "string" || !types.includes(type)) {
      return {
        ok: false,
        error: `not a protocol message (type ${preview(type)}; expected ${types.join(", ")})`,
      }
    }
    const result = decode(raw)
    return Result.isSuccess(result)
      ? { ok: true, message: result.success }
      : { ok: false, error: `invalid "${type}" message: ${result.failure.message.replaceAll("\n", " ")}` }
  }
}

/** Validate a message SAM received from an agent. */
export const decodeFromAgentMessage = decoder<FromAgent>(FromAgent, fromAgentTypes)

/**
 * Validate a message an agent received from SAM with the Schema. Agents use toAgentDecoder.ts's
 * hand-written twin (no effect in an agent process); the protocol test holds the two together.
 */
export const decodeToAgentWithSchema = decoder<ToAgent>(ToAgent, [
  "init",
  "invoke",
  "cancel",
  "call-result",
  "call-chunk",
  "shutdown",
])
