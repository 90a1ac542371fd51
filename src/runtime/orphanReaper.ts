// No orphans even when SAM dies hard and its reaper with it (both SIGKILLed, an OOM kill of the
// session): each SAM records its run (its id, pid, cgroup dirs) and every live instance's leader
// (pid + /proc start time) in the runtime store; the next SAM on the state dir, before it starts
// anything, sweeps what an unclean run left (its cgroups, its marked processes) and SIGKILLs the
// process groups of recorded leaders still alive. A pid is signalled only when its start time
// still matches, so a reused pid is never touched.
import { type SweepReport, sweepLeftovers } from "./containment/index.ts"
import type { EventBus } from "./eventBus.ts"
import { processStartTime } from "./os/proc.ts"
import { groupAlive, signalGroup } from "./processGroup.ts"
import type { RuntimeStore } from "./store/runtimeStore.ts"
import type { InstanceRecord } from "./store/storeTypes.ts"

export interface ReapReport {
  /** Leaders (with their groups) a previous SAM left running. */
  readonly leaders: ReadonlyArray<InstanceRecord>
  /** What the containment sweep of each unclean run killed. */
  readonly swept: ReadonlyArray<{ readonly samId: string; readonly report: SweepReport }>
}

const sameProcess = (pid: number, startTime: string): boolean =>
  startTime !== "" && processStartTime(pid) === startTime

/** Stop everything runs before `samId` left behind (call before anything starts). */
export const reapLeftovers = async (
  store: RuntimeStore,
  samId: string,
  graceMs = 2_000,
): Promise<ReapReport> => {
  const swept: Array<{ samId: string; report: SweepReport }> = []
  for (const run of store.samRuns.unclean(samId)) {
    const report = await sweepLeftovers({
      samId: run.samId,
      samPid: run.pid,
      samStartTime: run.startTime,
      mode: run.cgroupDirs.length > 0 ? "cgroup-v1" : "process-group",
      cgroupDirs: run.cgroupDirs,
    })
    // A run that is still alive (another SAM holds no lock on this dir: impossible) stays recorded.
    if (report.skipped === undefined) store.samRuns.markStopped(run.samId)
    swept.push({ samId: run.samId, report })
  }
  // A leader that is only a zombie (exited, its parent not yet reaped by init) with no live member
  // left in its group ran nothing: it is not reported, nor waited for.
  const leaders = store.instances.list().filter((r) => sameProcess(r.pid, r.startTime) && groupAlive(r.pid))
  for (const leader of leaders) signalGroup(leader.pid, "SIGTERM")
  const deadline = Date.now() + graceMs
  while (leaders.some((l) => groupAlive(l.pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const leader of leaders) if (groupAlive(leader.pid)) signalGroup(leader.pid, "SIGKILL")
  store.transaction(() => {
    for (const record of store.instances.list()) store.instances.remove(record.unit, record.instance)
  })
  return { leaders, swept }
}

/** Keep the instances table current from the bus: a leader is recorded while its instance is live. */
export const recordInstances = (store: RuntimeStore, bus: EventBus): (() => void) =>
  bus.subscribe((event) => {
    if (event.type !== "transition") return
    const live = event.to.startsWith("running") || event.to === "suspended" || event.to === "stopping"
    if (event.to.startsWith("running") && event.pid !== undefined && event.from === "starting") {
      store.instances.upsert({
        unit: event.unit,
        instance: event.instance,
        pid: event.pid,
        startTime: processStartTime(event.pid),
        cell: "",
        port: null,
        startedAt: event.at,
      })
    } else if (!live) store.instances.remove(event.unit, event.instance)
  })
