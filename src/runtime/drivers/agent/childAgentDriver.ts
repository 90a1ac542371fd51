// Runtimes `sandbox` and `process`: the agent runs in a child Node process (src/agent/childMain)
// started as a group leader by the process driver's spawnInstance, speaking the protocol over an
// IPC channel. `sandbox` adds Node's permission model per security profile and gives the agent
// only its declared environment; `process` runs it unrestricted with a minimal environment.
import type { ChildProcess } from "node:child_process"
import { Effect } from "effect"
import { agentDirectory } from "../../../agent/loadAgent.ts"
import type { ToAgent } from "../../../agent/protocol.ts"
import type { AgentDeployment } from "../../unitSpec.ts"
import { instanceKey } from "../../unitSpec.ts"
import { type Driver, type DriverContext, DriverError, type ExitInfo } from "../driver.ts"
import { childEnvironment, samVariables, spawnInstance } from "../processDriver.ts"
import { AgentConnection, type CallHost } from "./agentConnection.ts"
import { attachAgent } from "./agentInstance.ts"
import { agentEntryScript, sdkReadPaths } from "./agentSdk.ts"
import { throttleCpu } from "./cpuThrottle.ts"
import { prepareAgent } from "./prepareAgent.ts"
import { memoryFlags, permissionFlags } from "./sandboxFlags.ts"

type ChildRuntime = "sandbox" | "process"

/** V8's last words when it hits --max-old-space-size. */
const heapOutOfMemory = /Reached heap limit|JavaScript heap out of memory|Allocation failed/

/** `security.run_as` applies only when SAM runs as root (only root may switch users). */
const effectiveRunAs = (runAs: AgentDeployment["runAs"]): AgentDeployment["runAs"] =>
  runAs && (runAs.uid !== undefined || runAs.gid !== undefined) && process.getuid?.() === 0
    ? runAs
    : undefined

export const childAgentDriver = (runtime: ChildRuntime, calls: CallHost | undefined): Driver => ({
  name: `agent:${runtime}`,
  start: (ctx) =>
    Effect.gen(function* () {
      const runAs = effectiveRunAs(ctx.spec.agent?.runAs)
      const { agent, path, entry } = yield* prepareAgent(ctx, runAs)
      const agentDir = agentDirectory(path)
      const profile = runtime === "sandbox" ? agent.securityProfile : "trusted"

      let child: ChildProcess | undefined
      let heapExhausted: string | undefined
      const send = (message: ToAgent) => {
        if (!child?.connected) throw new Error("the agent's IPC channel is closed")
        child.send(message)
      }
      const connection = new AgentConnection({
        unit: instanceKey(ctx.spec, ctx.instance),
        send,
        log: ctx.log,
        calls,
        event: (type, fields) => ctx.event?.(`agent.${type}`, fields),
        profile: runtime === "sandbox" ? profile : undefined,
      })
      const args = [
        ...(runtime === "sandbox"
          ? permissionFlags(profile, {
              agentDir,
              dataDir: agent.dataDir,
              sdkReadPaths: sdkReadPaths(entry),
              network: agent.network,
            })
          : []),
        ...memoryFlags(agent.maxMemoryMb),
        agentEntryScript("childMain"),
      ]
      const base = yield* spawnInstance(
        {
          ...ctx,
          log: (stream, line) => {
            if (stream === "stderr" && heapOutOfMemory.test(line)) heapExhausted = line.trim()
            ctx.log(stream, line)
          },
        },
        {
          command: process.execPath,
          args,
          cwd: agentDir,
          env: environment(runtime, ctx, agent),
          ipc: true,
          ...(runAs?.uid === undefined ? {} : { uid: runAs.uid }),
          ...(runAs?.gid === undefined ? {} : { gid: runAs.gid }),
          onSpawn: (spawned) => {
            child = spawned
            spawned.on("message", (raw) => connection.receive(raw))
          },
        },
      )
      yield* Effect.try({
        try: () =>
          send({
            type: "init",
            unit: ctx.spec.id,
            instance: ctx.instance,
            path,
            config: agent.config,
            heartbeatIntervalMs: agent.heartbeatIntervalMs,
            dataDir: agent.dataDir,
          }),
        catch: (error) =>
          new DriverError({ unit: ctx.spec.id, message: `cannot initialise the agent: ${error}` }),
      })

      const pid = base.pid as number
      let rss: number | undefined
      let sampledAt = 0
      return yield* attachAgent(ctx, {
        transport: base,
        connection,
        memory: () => {
          // The whole tree's resident memory (a `process` agent may have children), read at most
          // every 500 ms: listing a tree can mean a /proc scan.
          if (Date.now() - sampledAt > 500) {
            sampledAt = Date.now()
            rss = base.usage?.().rssBytes || undefined
          }
          return rss ?? connection.rssBytes
        },
        memoryLabel: "RSS",
        throttle:
          agent.maxCpuPercent === undefined ? undefined : throttleCpu(pid, agent.maxCpuPercent, ctx.spec.id),
        memoryExit: (exit: ExitInfo) =>
          agent.maxMemoryMb !== undefined && (heapExhausted !== undefined || exit.signal === "SIGABRT")
            ? `memory: V8 heap limit of max_memory_mb ${agent.maxMemoryMb} reached (${heapExhausted ?? "aborted"})`
            : undefined,
      })
    }),
})

/**
 * `sandbox`: exactly the agent's declared environment plus SAM's variables, nothing of SAM's
 * own (not even PATH). NODE_OPTIONS is dropped: it could grant permissions back.
 * `process`: the same with PATH, like a service that does not inherit.
 */
const environment = (
  runtime: ChildRuntime,
  ctx: DriverContext,
  agent: AgentDeployment,
): Record<string, string> => {
  const own: Record<string, string> = { ...agent.environment, SAM_AGENT_DATA_DIR: agent.dataDir }
  if (runtime === "process") return childEnvironment(ctx, own, false)
  const { NODE_OPTIONS: _dropped, ...declared } = own
  return {
    ...samVariables(ctx),
    ...declared,
    SAM_UNIT_ID: ctx.spec.id,
    SAM_INSTANCE: String(ctx.instance),
  }
}
