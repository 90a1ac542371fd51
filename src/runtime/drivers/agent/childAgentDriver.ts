// Runtimes `sandbox` and `process`: the agent runs in a child Node process (src/agent/childMain)
// started as a group leader by the process driver's spawnInstance, speaking the protocol over an
// IPC channel. `sandbox` adds Node's permission model per security profile, bubblewrap's walls
// around it where the host allows (sandboxWalls.ts, sandboxChoice.ts), and gives the agent only
// its declared environment; `process` runs it unrestricted with a minimal environment.
import type { ChildProcess } from "node:child_process"
import { statSync } from "node:fs"
import { constants } from "node:os"
import { Effect } from "effect"
import { agentDirectory } from "../../../agent/loadAgent.ts"
import type { ToAgent } from "../../../agent/protocol.ts"
import { detectBubblewrap } from "../../os/bubblewrap.ts"
import { type SandboxChoice, sandboxRefusal } from "../../sandboxChoice.ts"
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
import { type WallPlan, walledCommand } from "./sandboxWalls.ts"

type ChildRuntime = "sandbox" | "process"

/** V8's last words when it hits --max-old-space-size. */
const allowNetWarning =
  /^\(node:\d+\) ExperimentalWarning: The flag --allow-net is under experimental phase\.$/

const heapOutOfMemory = /Reached heap limit|JavaScript heap out of memory|Allocation failed/

/** `security.run_as` applies only when SAM runs as root (only root may switch users). */
const effectiveRunAs = (runAs: AgentDeployment["runAs"]): AgentDeployment["runAs"] =>
  runAs && (runAs.uid !== undefined || runAs.gid !== undefined) && process.getuid?.() === 0
    ? runAs
    : undefined

/** A bwrap exit of 128+n reports the agent's death by signal n: give the lifecycle the signal. */
const unwalled = (exit: ExitInfo): ExitInfo => {
  if (exit.signal !== null || exit.code === null || exit.code <= 128 || exit.code > 128 + 64) return exit
  const name = Object.entries(constants.signals).find(([, n]) => n === (exit.code as number) - 128)?.[0]
  return name === undefined ? exit : { code: null, signal: name as NodeJS.Signals }
}

/** Whether `path` is one of `dirs` or below one of them. */
const isInside = (path: string, dirs: ReadonlyArray<string>): boolean =>
  dirs.some((dir) => path === dir || path.startsWith(`${dir.replace(/\/+$/, "")}/`))

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * `sandbox` decides how to wall agents in (read when the first one starts: the bubblewrap check
 * runs only then); the `process` runtime ignores it.
 */
export const childAgentDriver = (
  runtime: ChildRuntime,
  calls: CallHost | undefined,
  sandbox?: () => SandboxChoice,
): Driver => ({
  name: `agent:${runtime}`,
  start: (ctx) =>
    Effect.gen(function* () {
      const runAs = effectiveRunAs(ctx.spec.agent?.runAs)
      const { agent, path, entry } = yield* prepareAgent(ctx, runAs)
      const agentDir = agentDirectory(path)
      const profile = runtime === "sandbox" ? agent.securityProfile : "trusted"
      const choice = profile === "trusted" ? undefined : sandbox?.()
      // Run as another user, bwrap needs that user's namespaces: check them for it.
      const asUser =
        choice?.walls && runAs ? detectBubblewrap({ bwrap: choice.walls.path, identity: runAs }) : undefined
      const walls = asUser === undefined ? choice?.walls : asUser.ok ? asUser.host : undefined
      if (asUser && !asUser.ok)
        ctx.event?.("agent.sandbox-weak", {
          detail: `agent "${ctx.spec.id}" runs on Node's permission model alone: as uid ${runAs?.uid ?? "-"} ${asUser.reason}`,
        })
      const refusal = choice && sandboxRefusal({ ...choice, walls }, ctx.spec.id, agent.securityProfile)
      if (refusal) return yield* new DriverError({ unit: ctx.spec.id, message: refusal })

      let child: ChildProcess | undefined
      let heapExhausted: string | undefined
      const send = (message: ToAgent) => {
        if (!child?.connected) throw new Error("the agent's IPC channel is closed")
        child.send(message)
      }
      const reads = sdkReadPaths(entry)
      const seen = [agentDir, ...reads, agent.dataDir]
      const connection = new AgentConnection({
        unit: instanceKey(ctx.spec, ctx.instance),
        entry,
        send,
        log: ctx.log,
        logEntry: ctx.logEntry,
        calls,
        event: (type, fields) => ctx.event?.(`agent.${type}`, fields),
        profile: runtime === "sandbox" ? profile : undefined,
        ...(walls ? { outsideWalls: (file: string) => !isInside(file, seen) } : {}),
      })
      const args = [
        ...(runtime === "sandbox"
          ? permissionFlags(profile, {
              agentDir,
              dataDir: agent.dataDir,
              sdkReadPaths: reads,
              network: agent.network,
            })
          : []),
        ...memoryFlags(agent.maxMemoryMb),
        agentEntryScript("childMain"),
      ]
      const plan: WallPlan | undefined =
        walls && choice
          ? {
              bwrap: walls.path,
              runtimeFiles: walls.runtimeFiles,
              reads: [agentDir, ...reads],
              dataDir: agent.dataDir,
              writableData: profile === "standard",
              network: profile === "standard" && agent.network,
              hidden: choice.hiddenPaths.map((hidden) => ({ path: hidden, directory: isDirectory(hidden) })),
              cwd: agentDir,
              stopSignal: ctx.spec.stop.signal,
            }
          : undefined
      const launch = plan ? walledCommand(plan, process.execPath, args) : { command: process.execPath, args }
      // Without walls nothing can hide SAM's secrets inside what the permission model lets it read.
      const exposed = choice && !plan ? choice.hiddenPaths.filter((hidden) => isInside(hidden, seen)) : []
      if (exposed.length > 0)
        ctx.event?.("agent.sandbox-weak", {
          detail:
            `agent "${ctx.spec.id}" may read ${exposed.join(", ")} (inside what its sandbox lets it read) ` +
            "because bubblewrap's walls are not up: keep SAM's state dir out of the agent's directory, or install bubblewrap",
        })
      // Node warns that --allow-net is experimental at every start: SAM's flag, not the agent's
      // doing, so the two lines of that warning are left out of the agent's log (once).
      let netWarning = launch.args.includes("--allow-net") ? "expected" : "done"
      const base = yield* spawnInstance(
        {
          ...ctx,
          log: (stream, line) => {
            if (stream === "stderr" && netWarning !== "done") {
              if (netWarning === "expected" && allowNetWarning.test(line)) {
                netWarning = "hint"
                return
              }
              const hint = netWarning === "hint" && line.startsWith("(Use `node --trace-warnings")
              netWarning = "done"
              if (hint) return
            }
            if (stream === "stderr" && heapOutOfMemory.test(line)) heapExhausted = line.trim()
            ctx.log(stream, line)
          },
        },
        {
          command: launch.command,
          args: launch.args,
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
            ...(agent.persona === undefined ? {} : { persona: agent.persona }),
          }),
        catch: (error) =>
          new DriverError({ unit: ctx.spec.id, message: `cannot initialise the agent: ${error}` }),
      })

      const pid = base.pid as number
      let rss: number | undefined
      let sampledAt = 0
      const transport = plan
        ? {
            ...base,
            exited: Effect.map(base.exited, unwalled),
            stop: (stop: Parameters<typeof base.stop>[0]) => Effect.map(base.stop(stop), unwalled),
          }
        : base
      return yield* attachAgent(ctx, {
        transport,
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
