// The floor: the bench spawns the service program itself and spawns it again as soon as it exits.
// No supervisor process, so no memory figure; its restart is exit event → spawn → answering.
import { type ChildProcess, spawn } from "node:child_process"
import { killLeft, stopChild } from "../harness/cleanup.ts"
import type { RunningTool, ServiceSet, SupervisorTool } from "./tool.ts"

export const rawSpawn: SupervisorTool = {
  id: "raw",
  subject: "raw spawn",
  start: async (services: ServiceSet, context): Promise<RunningTool> => {
    const cwd = context.tempDir("raw")
    let stopping = false
    const live = new Map<number, ChildProcess>()
    const started = new Set<number>()
    const launch = (port: number) => {
      const child = spawn(services.node, [services.program], {
        cwd,
        env: { PORT: String(port) },
        stdio: "ignore",
      })
      if (child.pid !== undefined) started.add(child.pid)
      live.set(port, child)
      child.once("exit", () => {
        if (!stopping) launch(port)
      })
    }
    for (const port of services.ports) launch(port)
    const stop = async () => {
      stopping = true
      await Promise.all([...live.values()].map((child) => stopChild(child, 2_000, "SIGKILL")))
      killLeft(started)
    }
    const forget = context.cleanup.add("raw-spawned services", stop)
    return {
      supervisorPid: undefined,
      stop: async () => {
        forget()
        await stop()
      },
    }
  },
}
