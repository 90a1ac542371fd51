// One round of one supervisor with N services, measured from outside and the same for every tool:
// cold start (from just before start until every service answers /health), its memory after
// settling (the supervisor's process tree without the services), then SIGKILLs of services one at
// a time, each timed until a new pid answers on that port.
import { fileURLToPath } from "node:url"
import { freePort } from "../../src/runtime/freePort.ts"
import { isAlive } from "../../src/runtime/os/proc.ts"
import { killLeft } from "../harness/cleanup.ts"
import type { BenchContext } from "../harness/context.ts"
import { treeResident } from "../harness/procTree.ts"
import { answeringPid, healthy, pidsOn, pollUntil } from "../harness/servicePoll.ts"
import { median } from "../harness/stats.ts"
import type { RunningTool, ServiceSet, SupervisorTool } from "./tool.ts"

export const serviceProgram = fileURLToPath(new URL("../../test/fixtures/http-service.mjs", import.meta.url))

export interface Round {
  readonly coldStartMs: number
  /** Resident bytes of the supervisor's tree without the services; undefined without a supervisor. */
  readonly residentBytes: number | undefined
  /** Processes in that tree (SAM: the daemon and its reaper). */
  readonly processes: number | undefined
  readonly restartMs: ReadonlyArray<number>
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `check`, failing at once when the tool has stopped being measurable. */
const guarded =
  <A>(running: RunningTool, check: () => Promise<A | undefined | false>) =>
  async (): Promise<A | undefined | false> => {
    const problem = running.problem?.()
    if (problem) throw new Error(`bench: ${problem}`)
    return check()
  }

export const measureRound = async (
  tool: SupervisorTool,
  count: number,
  round: number,
  context: BenchContext,
): Promise<Round> => {
  const ports: number[] = []
  for (let i = 0; i < count; i++) ports.push(await freePort())
  const services: ServiceSet = { ports, program: serviceProgram, node: context.node }
  const seen = new Set<number>()
  const began = performance.now()
  const running = await tool.start(services, context)
  try {
    await Promise.all(
      ports.map((port) =>
        pollUntil(
          `${tool.subject}: service on port ${port} healthy`,
          guarded(running, () => healthy(port)),
          120_000,
          5,
        ),
      ),
    )
    const coldStartMs = performance.now() - began

    await pause(context.options.settleMs)
    const pids = await pidsOn(ports)
    for (const pid of pids) seen.add(pid)
    let residentBytes: number | undefined
    let processes: number | undefined
    const supervisor = running.supervisorPid
    if (supervisor !== undefined) {
      const readings: number[] = []
      for (let i = 0; i < 3; i++) {
        const reading = treeResident(supervisor, new Set(pids))
        readings.push(reading.bytes)
        processes = reading.processes
        await pause(250)
      }
      residentBytes = median(readings)
    }

    const restartMs: number[] = []
    for (let kill = 0; kill < context.options.kills; kill++) {
      const port = ports[(kill * 7 + round) % count]!
      const old = await pollUntil(
        `pid on port ${port}`,
        guarded(running, () => answeringPid(port)),
        10_000,
        5,
      )
      seen.add(old)
      const killedAt = performance.now()
      process.kill(old, "SIGKILL")
      const next = await pollUntil(
        `${tool.subject}: a new process answering on port ${port} after SIGKILL of ${old}`,
        guarded(running, async () => {
          const pid = await answeringPid(port)
          return pid !== undefined && pid !== old ? pid : undefined
        }),
        30_000,
        1,
      )
      restartMs.push(performance.now() - killedAt)
      seen.add(next)
      await pause(100)
    }
    return { coldStartMs, residentBytes, processes, restartMs }
  } finally {
    for (const pid of await pidsOn(ports, 500).catch(() => [])) seen.add(pid)
    await running.stop()
    // Stopped means nothing of it is left: a service still alive is the tool's fault, said and killed.
    await pause(200)
    const left = [...seen].filter(isAlive)
    if (left.length > 0) {
      context.log(`bench: ${tool.subject} left service pids ${left.join(", ")} after its stop; killing them`)
      killLeft(left)
    }
  }
}
