// Turns a started agent transport (child process or worker thread) into an InstanceHandle: waits
// for ready, checks capabilities against the config, registers providers, and runs the
// resource watch and CPU throttle. Shared by the sandbox, process and worker drivers.
import { Effect } from "effect"
import type { StopSpec } from "../../unitSpec.ts"
import { instanceKey } from "../../unitSpec.ts"
import {
  type DriverContext,
  DriverError,
  type DriverFact,
  type ExitInfo,
  type InstanceHandle,
} from "../driver.ts"
import { admitCapabilities, capabilityProviders } from "./agentCapabilities.ts"
import type { AgentConnection } from "./agentConnection.ts"
import type { CpuThrottle } from "./cpuThrottle.ts"
import { ResourceWatch } from "./resourceWatch.ts"

/** The runtime-specific part: a running agent that can be stopped, suspended and awaited. */
export interface AgentTransport {
  readonly pid: number | undefined
  readonly exited: Effect.Effect<ExitInfo>
  readonly stop: (stop: StopSpec) => Effect.Effect<ExitInfo>
  readonly suspend: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  readonly usage?: () => { readonly rssBytes: number; readonly cpuSeconds: number }
}

export interface AttachOptions {
  readonly transport: AgentTransport
  readonly connection: AgentConnection
  /** Memory counted against max_memory_mb, in bytes. */
  readonly memory: () => number | undefined
  readonly memoryLabel: string
  readonly throttle: CpuThrottle | undefined
  /** Why the exit was a memory kill (V8 heap limit, worker OOM), if it was one. */
  readonly memoryExit: (exit: ExitInfo) => string | undefined
}

/** How long an agent may take between spawn and ready (setup loading a model, say). */
export const readyTimeoutMs = 60_000

/** Facts learned before the runner subscribes are kept and delivered on subscription. */
class FactChannel {
  private listener: ((fact: DriverFact) => void) | undefined
  private readonly early: DriverFact[] = []

  emit = (fact: DriverFact): void => {
    if (this.listener) this.listener(fact)
    else this.early.push(fact)
  }

  subscribe = (listener: (fact: DriverFact) => void): (() => void) => {
    this.listener = listener
    for (const fact of this.early.splice(0)) listener(fact)
    return () => {
      if (this.listener === listener) this.listener = undefined
    }
  }
}

export const attachAgent = (ctx: DriverContext, options: AttachOptions) =>
  Effect.gen(function* () {
    const { transport, connection } = options
    const agent = ctx.spec.agent!
    const unit = instanceKey(ctx.spec, ctx.instance)
    const offered = yield* waitForReady(ctx, options)

    const routed = yield* admitCapabilities(ctx, offered)

    const facts = new FactChannel()
    // Why it went away, if SAM knows (a kill, a memory limit): its callers are told that, not only
    // the exit or the stop.
    let why: string | undefined
    const emit: typeof facts.emit = (fact) => {
      if (fact.type === "HEARTBEAT_MISSED" || fact.type === "RESOURCE_EXCEEDED")
        why ??= `SAM killed it: ${fact.detail}`
      facts.emit(fact)
    }
    const gone = (how: string) => `agent ${unit} ${how}${why === undefined ? "" : ` (${why})`}`
    const watch = new ResourceWatch({
      heartbeatIntervalMs: agent.heartbeatIntervalMs,
      heartbeatTtlMs: agent.heartbeatTtlMs,
      maxMemoryMb: agent.maxMemoryMb,
      heartbeats: connection,
      memory: options.memory,
      memoryLabel: options.memoryLabel,
      emit,
    })
    const release = (reason: string) => {
      watch.stop()
      options.throttle?.stop()
      connection.close(reason)
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => release(gone("stopped"))))

    const exited = transport.exited.pipe(
      Effect.tap((exit) =>
        Effect.sync(() => {
          const memory = options.memoryExit(exit)
          if (memory) why ??= memory
          // Callers first: the lifecycle may stop the handle (and close the connection) as soon as
          // it hears of the memory kill.
          release(gone(exit.signal ? `exited on ${exit.signal}` : `exited with code ${exit.code}`))
          // A memory kill must reach the lifecycle before the exit does: reason `memory`.
          if (memory) emit({ type: "RESOURCE_EXCEEDED", resource: "memory", detail: memory, exited: true })
        }),
      ),
    )

    const handle: InstanceHandle = {
      pid: transport.pid,
      port: undefined,
      url: undefined,
      exited,
      stop: (spec) =>
        Effect.gen(function* () {
          watch.stop()
          options.throttle?.stop()
          const exit = yield* transport.stop(spec)
          release(gone("stopped"))
          return exit
        }),
      suspend: Effect.suspend(() => {
        watch.pause()
        options.throttle?.pause()
        return transport.suspend
      }),
      resume: Effect.andThen(
        transport.resume,
        Effect.sync(() => {
          watch.resume()
          options.throttle?.resume()
        }),
      ),
      ...(transport.usage === undefined ? {} : { usage: transport.usage }),
      capabilities: capabilityProviders(
        ctx.spec,
        ctx.instance,
        routed,
        (capability, input, call) => connection.invoke(capability, input, call),
        undefined,
        connection.descriptions,
      ),
      facts: facts.subscribe,
    }
    return handle
  })

/** Ready, or a start failure that says why: early exit, blocked setup, or no answer in time. */
const waitForReady = (ctx: DriverContext, options: AttachOptions) => {
  const { connection, transport } = options
  const agent = ctx.spec.agent!
  const fail = (message: string) =>
    new DriverError({
      unit: ctx.spec.id,
      message,
      ...(connection.setupFailed ? { failure: "setup" as const } : {}),
    })
  const exitedEarly = Effect.flatMap(transport.exited, (exit) =>
    Effect.fail(
      fail(
        `agent ${exit.signal ? `exited on ${exit.signal}` : `exited with code ${exit.code}`} before it was ready` +
          (connection.lastError
            ? `: ${connection.lastError}`
            : options.memoryExit(exit)
              ? `: ${options.memoryExit(exit)}`
              : ""),
      ),
    ),
  )
  // Heartbeats start before setup: once they have begun, silence means setup blocks the loop.
  const stalled = Effect.gen(function* () {
    while (true) {
      yield* Effect.sleep(Math.min(250, agent.heartbeatTtlMs / 4))
      const age = Date.now() - connection.lastHeartbeatAt
      if (connection.heartbeats > 0 && age > agent.heartbeatTtlMs) {
        return yield* Effect.fail(
          fail(
            `no heartbeat for ${age} ms during setup (ttl ${agent.heartbeatTtlMs} ms): setup blocks the event loop`,
          ),
        )
      }
    }
  })
  const tooSlow = Effect.andThen(
    Effect.sleep(readyTimeoutMs),
    Effect.fail(fail(`agent did not report ready within ${readyTimeoutMs / 1000} s`)),
  )
  return Effect.raceAllFirst([Effect.promise(() => connection.ready), exitedEarly, stalled, tooSlow])
}
