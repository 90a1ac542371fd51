// No orphans even when SAM itself dies hard (SIGKILL, OOM, power of the terminal): SAM keeps
// the process groups it runs in <state_dir>/children.json; the next SAM on the same state dir
// finds the groups whose SAM is gone and stops them (SIGTERM, SIGKILL after a grace period)
// before starting anything, so a leftover cannot hold a port or a file. A pid is only signalled
// when its /proc start time still matches, so a reused pid is never touched.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { EventBus } from "./eventBus.ts"
import { processStartTime } from "./os/proc.ts"
import { groupAlive, signalGroup } from "./processGroup.ts"

interface ChildRecord {
  readonly unit: string
  readonly instance: number
  readonly pid: number
  readonly startTime: string
}

interface ChildrenFile {
  readonly samPid: number
  readonly samStartTime: string
  readonly children: ReadonlyArray<ChildRecord>
}

const sameProcess = (pid: number, startTime: string): boolean =>
  startTime !== "" && processStartTime(pid) === startTime

const readFile = (file: string): ChildrenFile | undefined => {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ChildrenFile
  } catch {
    return undefined
  }
}

/** Stop the groups a dead SAM left behind; returns what was reaped. */
export const reapOrphans = async (stateDir: string, graceMs = 2_000): Promise<ReadonlyArray<ChildRecord>> => {
  const previous = readFile(join(stateDir, "children.json"))
  if (!previous || sameProcess(previous.samPid, previous.samStartTime)) return []
  const leftovers = previous.children.filter((c) => sameProcess(c.pid, c.startTime))
  for (const child of leftovers) signalGroup(child.pid, "SIGTERM")
  const deadline = Date.now() + graceMs
  while (leftovers.some((c) => groupAlive(c.pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const child of leftovers) if (groupAlive(child.pid)) signalGroup(child.pid, "SIGKILL")
  return leftovers
}

/** Keep children.json current from the bus: a pid is recorded while its instance is live. */
export const recordChildren = (stateDir: string, bus: EventBus): (() => void) => {
  mkdirSync(stateDir, { recursive: true })
  const file = join(stateDir, "children.json")
  const live = new Map<string, ChildRecord>()
  const samStartTime = processStartTime(process.pid)
  const write = () => {
    const body: ChildrenFile = { samPid: process.pid, samStartTime, children: [...live.values()] }
    const temp = `${file}.tmp`
    writeFileSync(temp, JSON.stringify(body))
    renameSync(temp, file)
  }
  write()
  return bus.subscribe((event) => {
    if (event.type !== "transition") return
    const key = `${event.unit}#${event.instance}`
    if (event.to.startsWith("running") && event.pid !== undefined && !live.has(key)) {
      live.set(key, {
        unit: event.unit,
        instance: event.instance,
        pid: event.pid,
        startTime: processStartTime(event.pid),
      })
      write()
    } else if (
      !event.to.startsWith("running") &&
      event.to !== "suspended" &&
      event.to !== "stopping" &&
      live.delete(key)
    ) {
      write()
    }
  })
}
