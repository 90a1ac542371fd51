// Runtime `worker`: the agent runs in a worker thread of SAM's process (src/agent/workerMain)
// with V8 `resourceLimits` from max_memory_mb, speaking the same protocol over its port. Cheaper
// than a child, but not isolated: it shares SAM's process, permissions and CPU (docs/AGENTS.md).

import { createInterface } from "node:readline"
import { Worker } from "node:worker_threads"
import { Deferred, Effect } from "effect"
import type { ToAgent } from "../../../agent/protocol.ts"
import { commonJsHint } from "../../moduleFormatHint.ts"
import type { StopSpec } from "../../unitSpec.ts"
import { instanceKey } from "../../unitSpec.ts"
import { type Driver, DriverError, type ExitInfo } from "../driver.ts"
import { samVariables } from "../processDriver.ts"
import { AgentConnection, type CallHost } from "./agentConnection.ts"
import { attachAgent } from "./agentInstance.ts"
import { agentEntryScript } from "./agentSdk.ts"
import { prepareAgent } from "./prepareAgent.ts"

export const workerAgentDriver = (calls: CallHost | undefined): Driver => ({
  name: "agent:worker",
  start: (ctx) =>
    Effect.gen(function* () {
      const unit = ctx.spec.id
      const { agent, path, entry } = yield* prepareAgent(ctx)
      if (agent.maxCpuPercent !== undefined) {
        const detail = `max_cpu_percent is not enforced for the worker runtime (a thread of SAM); use sandbox or process`
        ctx.log("stderr", `sam: ${detail}`)
        ctx.event?.("agent.limit-not-enforced", { resource: "cpu", detail })
      }

      const worker = yield* Effect.try({
        try: () =>
          new Worker(agentEntryScript("workerMain"), {
            env: {
              ...samVariables(ctx),
              ...agent.environment,
              SAM_UNIT_ID: unit,
              SAM_INSTANCE: String(ctx.instance),
              SAM_AGENT_DATA_DIR: agent.dataDir,
            },
            stdout: true,
            stderr: true,
            ...(agent.maxMemoryMb === undefined
              ? {}
              : { resourceLimits: { maxOldGenerationSizeMb: Math.max(16, Math.floor(agent.maxMemoryMb)) } }),
          }),
        catch: (error) =>
          new DriverError({ unit, message: `cannot start the worker: ${(error as Error).message}` }),
      })
      const exit = yield* Deferred.make<ExitInfo>()
      let outOfMemory: string | undefined
      const connection = new AgentConnection({
        unit: instanceKey(ctx.spec, ctx.instance),
        entry,
        send: (message: ToAgent) => worker.postMessage(message),
        log: ctx.log,
        logEntry: ctx.logEntry,
        calls,
        event: (type, fields) => ctx.event?.(`agent.${type}`, fields),
        profile: undefined,
      })
      worker.on("message", (raw) => connection.receive(raw))
      worker.on("messageerror", (error) => connection.receive({ unreadable: error.message }))
      worker.on("error", (error: Error & { code?: string }) => {
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") {
          outOfMemory = `memory: worker heap limit of max_memory_mb ${agent.maxMemoryMb} reached (${error.message})`
        }
        // A failed import throws here (workerMain.ts), not as a start-failed message.
        connection.lastError = `${error.message}${commonJsHint(error.message, entry)}`
        ctx.log("stderr", `worker error: ${error.message}`)
      })
      worker.once("exit", (code) => Effect.runFork(Deferred.succeed(exit, { code, signal: null })))
      for (const [stream, source] of [
        ["stdout", worker.stdout],
        ["stderr", worker.stderr],
      ] as const) {
        createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) =>
          ctx.log(stream, line),
        )
      }
      const terminate = Effect.gen(function* () {
        if (!(yield* Deferred.isDone(exit))) yield* Effect.promise(() => worker.terminate())
        return yield* Deferred.await(exit)
      })
      yield* Effect.addFinalizer(() => Effect.asVoid(terminate))

      const stop = (spec: StopSpec) =>
        Effect.gen(function* () {
          if (yield* Deferred.isDone(exit)) return yield* Deferred.await(exit)
          if (spec.signal !== "SIGKILL" && spec.graceMs > 0) {
            // A graceful stop is the shutdown message; a thread that does not end in time is terminated.
            try {
              worker.postMessage({ type: "shutdown" } satisfies ToAgent)
            } catch {
              // Already closing.
            }
            const ended = yield* Deferred.await(exit).pipe(Effect.timeoutOption(spec.graceMs))
            if (ended._tag === "Some") return ended.value
          }
          return yield* terminate
        })

      worker.postMessage({
        type: "init",
        unit,
        instance: ctx.instance,
        path,
        config: agent.config,
        heartbeatIntervalMs: agent.heartbeatIntervalMs,
        dataDir: agent.dataDir,
        ...(agent.persona === undefined ? {} : { persona: agent.persona }),
      } satisfies ToAgent)

      // The worker's heap as V8 sees it and its thread's CPU time, sampled asynchronously (works
      // while its loop is busy): its limit's figure, and its MEM and CPU in `sam ps` and the API.
      let heapUsed: number | undefined
      let cpuSeconds = 0
      let sampling = false
      const sampleHeap = () => {
        if (sampling) return
        sampling = true
        Promise.all([worker.getHeapStatistics(), worker.cpuUsage()])
          .then(([stats, cpu]) => {
            heapUsed = stats.used_heap_size
            cpuSeconds = (cpu.user + cpu.system) / 1e6
          })
          // A worker that just exited has no heap to measure: keep the last figure.
          .catch(() => undefined)
          .finally(() => {
            sampling = false
          })
      }

      return yield* attachAgent(ctx, {
        transport: {
          pid: undefined,
          exited: Deferred.await(exit),
          stop,
          // A thread cannot be paused: suspended, it is simply not routed to.
          suspend: Effect.void,
          resume: Effect.void,
          usage: () => {
            sampleHeap()
            return { rssBytes: heapUsed ?? connection.heapUsedBytes ?? 0, cpuSeconds }
          },
        },
        connection,
        memory: () => {
          sampleHeap()
          return heapUsed ?? connection.heapUsedBytes
        },
        memoryLabel: "heap",
        throttle: undefined,
        memoryExit: () => outOfMemory,
      })
    }),
})
