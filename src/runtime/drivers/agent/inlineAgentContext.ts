// The AgentContext an inline agent's setup, handlers and shutdown receive, built so that an idle
// agent holds little (bench/RESULTS.md, "10,000 inline agents"): its data dir is made, its logger
// and its lifetime signal created, only when first used. Used by inlineAgentDriver.ts.
import { format } from "node:util"
import { asCapabilityError } from "../../../agent/capabilityError.ts"
import type { AgentContext, AgentLogger, CallOptions } from "../../../agent/defineAgent.ts"
import type { CallParent } from "../../capabilities/capability.ts"
import type { DriverContext } from "../driver.ts"
import { samVariables } from "../processDriver.ts"
import { type CallHost, callsNotRouted } from "./agentConnection.ts"
import { makeDataDir } from "./prepareAgent.ts"

/** Where an agent's identity, env and context find their instance's state (not enumerable). */
const stateKey = Symbol("sam.inlineAgent")

type Holder = { readonly [stateKey]: InlineAgentState }

/**
 * Own enumerable getters, so a spread or JSON of `ctx.agent` and `ctx.env` has the data dir as
 * the other runtimes' plain objects do, and the read makes it. One getter function for every
 * agent, defined on objects of one shape: a getter literal would be a closure each, and would
 * turn each object into a dictionary of its own (~0.6 KB an agent, bench/RESULTS.md).
 */
const dataDirGetter = {
  get(this: Holder): string {
    return this[stateKey].dataDir()
  },
  enumerable: true,
  configurable: false,
}

const loggerGetter = {
  get(this: Holder): AgentLogger {
    return this[stateKey].logger()
  },
  enumerable: true,
  configurable: false,
}

const holding = <T extends object>(target: T, state: InlineAgentState): T =>
  Object.defineProperty(target, stateKey, { value: state, enumerable: false })

/** One incarnation of an inline agent: its context, and what it makes when first used. */
export class InlineAgentState {
  readonly context: AgentContext
  private dataDirMade = false
  private lineLogger: AgentLogger | undefined
  private lifetime: AbortController | undefined
  /** Stopped (true until an error saying so is needed): a signal asked for after it is aborted. */
  private stopped: Error | boolean = false
  /** Each invocation's controller, aborted when the agent stops; made by the first invocation. */
  private inFlight: Set<AbortController> | undefined

  private readonly ctx: DriverContext
  private readonly dataDirPath: string
  private readonly calls: CallHost | undefined

  constructor(
    ctx: DriverContext,
    dataDirPath: string,
    environment: Readonly<Record<string, string>>,
    config: Readonly<Record<string, unknown>>,
    calls: CallHost | undefined,
  ) {
    this.ctx = ctx
    this.dataDirPath = dataDirPath
    const agent = holding({ id: ctx.spec.id, instance: ctx.instance, persona: ctx.spec.agent?.persona }, this)
    Object.defineProperty(agent, "dataDir", dataDirGetter)
    const env = holding(
      {
        ...samVariables(ctx),
        ...environment,
        SAM_UNIT_ID: ctx.spec.id,
        SAM_INSTANCE: String(ctx.instance),
      },
      this,
    )
    Object.defineProperty(env, "SAM_AGENT_DATA_DIR", dataDirGetter)
    const context: Record<string, unknown> = holding({ agent }, this)
    Object.defineProperty(context, "logger", loggerGetter)
    context.config = config
    context.env = env
    this.calls = calls
    context.invoke = (capability: string, input: unknown, options?: CallOptions) =>
      this.call(capability, input, options, undefined)
    context.invokeStream = (capability: string, input: unknown, options?: CallOptions) =>
      this.callStream(capability, input, options, undefined)
    this.context = context as unknown as AgentContext
  }

  /**
   * ctx.invoke: through SAM's router, ended when the agent stops. Made by a handler, `parent` is
   * the invocation it serves (the call is one deeper, its deadline at most what is left of it).
   */
  async call(
    capability: string,
    input: unknown,
    options: CallOptions = {},
    parent: CallParent | undefined,
  ): Promise<unknown> {
    if (!this.calls) throw callsNotRouted(capability)
    const lifetime = this.signal()
    const signal = options.signal ? AbortSignal.any([options.signal, lifetime]) : lifetime
    // The router's CapabilityError is Effect's; the agent gets the SDK's, as in every runtime.
    const result = await this.calls
      .invoke(capability, input, {
        signal,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(parent === undefined ? {} : { parent }),
      })
      .catch((error: unknown) => {
        throw asCapabilityError(capability, error)
      })
    return result.output
  }

  /** ctx.invokeStream: the router's stream, ended when the agent stops; errors as the SDK's. */
  async *callStream(
    capability: string,
    input: unknown,
    options: CallOptions = {},
    parent: CallParent | undefined,
  ): AsyncGenerator<unknown, void> {
    if (!this.calls) throw callsNotRouted(capability)
    const lifetime = this.signal()
    const signal = options.signal ? AbortSignal.any([options.signal, lifetime]) : lifetime
    try {
      yield* this.calls.stream(capability, input, {
        signal,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(parent === undefined ? {} : { parent }),
      })
    } catch (error) {
      throw asCapabilityError(capability, error)
    }
  }

  dataDir(): string {
    if (!this.dataDirMade) {
      makeDataDir(this.dataDirPath)
      this.dataDirMade = true
    }
    return this.dataDirPath
  }

  logger(): AgentLogger {
    this.lineLogger ??= lineLogger(this.ctx)
    return this.lineLogger
  }

  /** Aborted when the agent stops: the calls it makes end with it. */
  signal(): AbortSignal {
    if (this.stopped) return AbortSignal.abort(this.stopReason())
    this.lifetime ??= new AbortController()
    return this.lifetime.signal
  }

  /** A handler's controller, aborted when the agent stops until `settled` is called for it. */
  invocation(): AbortController {
    const invocation = new AbortController()
    this.inFlight ??= new Set()
    this.inFlight.add(invocation)
    return invocation
  }

  settled(invocation: AbortController): void {
    this.inFlight?.delete(invocation)
  }

  /**
   * The agent is stopping: its calls and running handlers are aborted, with an error made only
   * if there is one to abort (an Error's stack trace was ~5 µs of each of 10,000 stops).
   */
  stop(): void {
    if (this.stopped) return
    if (!this.lifetime && !this.inFlight?.size) {
      this.stopped = true
      return
    }
    const reason = this.stopReason()
    this.lifetime?.abort(reason)
    for (const invocation of this.inFlight ?? []) invocation.abort(reason)
  }

  private stopReason(): Error {
    if (!(this.stopped instanceof Error)) this.stopped = new Error(`agent ${this.ctx.spec.id} is stopping`)
    return this.stopped
  }
}

const lineLogger = (ctx: DriverContext): AgentLogger => {
  const log =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, ...details: unknown[]) => {
      ctx.logEntry(level, details.length === 0 ? message : format(message, ...details))
    }
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") }
}
