// Idle agent memory as a user runs SAM (`sam start`, the compiled CLI): one idle agent per runtime
// (fixtures/idleAgent.mjs). A sandbox or process agent is a process tree of its own (bubblewrap's
// two processes included where the host has it); a worker agent is a thread inside SAM, so its cost
// is SAM's memory with it minus SAM's memory without it, in runs that alternate. The baseline is
// the bare Node HTTP process (the service program alone).
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { freePort } from "../../src/runtime/freePort.ts"
import { readEnviron, residentBytes } from "../../src/runtime/os/proc.ts"
import { stopChild } from "../harness/cleanup.ts"
import type { BenchContext } from "../harness/context.ts"
import { childrenOf, treeOf, treeResident } from "../harness/procTree.ts"
import { healthy, pollUntil } from "../harness/servicePoll.ts"
import { startDaemon } from "../supervisor/daemonProcess.ts"
import { serviceProgram } from "../supervisor/measureTool.ts"
import { samEntry } from "../supervisor/samCli.ts"

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface IdleReading {
  readonly bareNode: number
  readonly sandbox: number
  readonly process: number
  /** SAM's own tree (daemon + reaper) without and with the worker agent. */
  readonly samWithout: number
  readonly samWith: number
}

/** The bare Node HTTP process: the service program alone, until it answers, then settled. */
const bareNode = async (context: BenchContext): Promise<number> => {
  const port = await freePort()
  const child = spawn(context.node, [serviceProgram], { env: { PORT: String(port) }, stdio: "ignore" })
  const forget = context.cleanup.child("bare Node HTTP process", child)
  try {
    await pollUntil("bare Node HTTP process answering", () => healthy(port), 30_000, 5)
    await pause(context.options.settleMs)
    return residentBytes(child.pid!) ?? 0
  } finally {
    forget()
    await stopChild(child, 2_000, "SIGKILL")
  }
}

const agentConfig = (dir: string, context: BenchContext, withWorker: boolean): string => {
  const path = join(
    context.root,
    "bench",
    "fixtures",
    context.options.fromSources ? "benchAgent.ts" : "idleAgent.mjs",
  )
  const agent = (runtime: string) => ({ path, runtime, capabilities: ["echo"] })
  const config = {
    api: { host: "127.0.0.1", port: 0 },
    runtime: { state_dir: join(dir, "state") },
    agents: {
      "idle-sandbox": agent("sandbox"),
      "idle-process": agent("process"),
      ...(withWorker ? { "idle-worker": agent("worker") } : {}),
    },
  }
  const file = join(dir, "sam.config.json")
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`)
  return file
}

/** SAM's direct child running unit `id` (its SAM_UNIT_ID says so). */
const unitChild = (samPid: number, id: string): number | undefined =>
  childrenOf(samPid).find((pid) => readEnviron(pid)?.get("SAM_UNIT_ID") === id)

const samRun = async (context: BenchContext, withWorker: boolean) => {
  const dir = context.tempDir("agents")
  const config = agentConfig(dir, context, withWorker)
  const run = startDaemon(
    "sam start (agents)",
    [samEntry(context), "start", "--config", config],
    dir,
    context,
  )
  try {
    const output = join(dir, "output.log")
    await pollUntil(
      "sam start: every agent ready",
      async () => {
        const problem = run.problem?.()
        if (problem) throw new Error(problem)
        const text = existsSync(output) ? readFileSync(output, "utf8") : ""
        const ready = /sam: (\d+)\/(\d+) units ready/.exec(text)
        if (ready && ready[1] !== ready[2]) throw new Error(`not every agent started:\n${run.tail()}`)
        return ready !== null
      },
      60_000,
      20,
    )
    await pause(context.options.settleMs)
    const sam = run.supervisorPid!
    const sandbox = unitChild(sam, "idle-sandbox")
    const processAgent = unitChild(sam, "idle-process")
    if (sandbox === undefined || processAgent === undefined)
      throw new Error(`sam start: the agents' processes are not SAM's children:\n${run.tail()}`)
    const agentTrees = new Set([sandbox, processAgent])
    return {
      sandbox: treeResident(sandbox).bytes,
      process: treeResident(processAgent).bytes,
      sam: treeResident(sam, agentTrees).bytes,
      samProcesses: treeOf(sam, agentTrees).length,
    }
  } finally {
    await run.stop()
  }
}

export const idleAgentMemory = async (context: BenchContext): Promise<IdleReading[]> => {
  const readings: IdleReading[] = []
  for (let round = 0; round < context.options.repeats; round++) {
    context.log(`bench: agents: idle agent memory, round ${round + 1}/${context.options.repeats}`)
    const bare = await bareNode(context)
    const without = await samRun(context, false)
    const withWorker = await samRun(context, true)
    readings.push({
      bareNode: bare,
      sandbox: median2(without.sandbox, withWorker.sandbox),
      process: median2(without.process, withWorker.process),
      samWithout: without.sam,
      samWith: withWorker.sam,
    })
  }
  return readings
}

const median2 = (a: number, b: number) => (a + b) / 2
