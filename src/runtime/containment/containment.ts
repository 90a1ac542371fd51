// Builds the Containment and its Cells on top of one mode's backend: the markers, the wrapper,
// membership filtered for zombies, usage summed over the tree, and the registry of live cells
// that killAll and dispose walk. detectContainment.ts chooses the backend.
import { clockTicksPerSecond, isAlive, isDead, pageSize, processStartTime, readStat } from "../os/proc.ts"
import { killPid, killUntilGone } from "./killing.ts"
import { markedProcesses, markersFor } from "./markers.ts"
import type { ModeBackend } from "./modeBackend.ts"
import {
  type Cell,
  type CellChange,
  type Containment,
  ContainmentError,
  type ContainmentInfo,
} from "./types.ts"
import { wrapCommand } from "./wrapper.ts"

const disposeWithinMs = 5_000

/** "notes-store#0" → "notes-store-0.7": a valid cgroup name, unique within this SAM. */
const cellName = (key: string, sequence: number): string =>
  `${key.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 80) || "cell"}.${sequence}`

export const makeContainment = (
  backend: ModeBackend,
  samId: string,
  setpriv: string | undefined,
  info: ContainmentInfo,
): Containment => {
  /** Live cells, with their leader once adopted. */
  const live = new Map<Cell, number | undefined>()
  const listeners = new Set<(change: CellChange) => void>()
  const emit = (change: CellChange) => {
    for (const listener of listeners) listener(change)
  }
  let sequence = 0
  let disposed: Promise<void> | undefined

  const cell = (key: string): Cell => {
    if (disposed)
      throw new ContainmentError({ message: `cannot make cell "${key}": containment is disposed` })
    const id = cellName(key, ++sequence)
    const inner = backend.createCell(id)
    let released = false
    const members = () => inner.pids().filter(isAlive)
    const self: Cell = {
      id,
      env: markersFor(samId, id),
      cgroupDirs: inner.cgroupDirs,
      wrap: (command, args, options = {}) =>
        wrapCommand(
          { joinFiles: inner.joinFiles, setpriv, cellId: id, parentPid: process.pid },
          command,
          args,
          options,
        ),
      adopt: (leaderPid) => {
        live.set(self, leaderPid)
        inner.adopt(leaderPid)
        emit({ type: "adopted", cell: id, pid: leaderPid })
      },
      members,
      signal: (signal) => {
        for (const pid of members()) killPid(pid, signal)
      },
      kill: () => inner.kill(),
      empty: () => inner.empty(),
      release: () => {
        if (released) return true
        if (!inner.empty() || !inner.remove()) return false
        released = true
        const leader = live.get(self)
        live.delete(self)
        if (leader !== undefined) emit({ type: "released", cell: id, pid: leader })
        return true
      },
      usage: () => {
        let rssBytes = 0
        let cpuTicks = 0
        for (const pid of inner.pids()) {
          const stat = readStat(pid)
          if (stat === undefined || isDead(stat)) continue
          rssBytes += stat.rssPages * pageSize()
          cpuTicks += stat.utimeTicks + stat.stimeTicks
        }
        return { rssBytes, cpuSeconds: cpuTicks / clockTicksPerSecond() }
      },
    }
    live.set(self, undefined)
    return self
  }

  const killAll = () => {
    for (const c of live.keys()) c.kill()
    backend.killAll()
    killUntilGone(() => markedProcesses(samId))
  }

  const cells = () => [...live.keys()]
  const leftovers = () => [...new Set([...cells().flatMap((c) => c.members()), ...markedProcesses(samId)])]
  const settled = () => cells().every((c) => c.empty()) && markedProcesses(samId).length === 0
  /** Remove every cell's directories, then SAM's; false while the kernel still holds one. */
  const removeAll = () => cells().filter((c) => !c.release()).length === 0 && backend.removeTop()

  const dispose = async () => {
    const deadline = Date.now() + disposeWithinMs
    for (;;) {
      killAll()
      if (settled() && removeAll()) return
      if (Date.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const left = leftovers()
    const dirs =
      backend.cgroupDirs.length > 0 ? `; directories may remain under ${backend.cgroupDirs.join(", ")}` : ""
    throw new ContainmentError({
      message:
        `containment ${samId} could not clean up within ${disposeWithinMs / 1000} s: ` +
        `${left.length > 0 ? `pids ${left.join(", ")} still run` : "no process left"}${dirs}` +
        " (a process in uninterruptible sleep? see docs/CONTAINMENT.md)",
    })
  }

  return {
    info,
    samId,
    record: {
      samId,
      samPid: process.pid,
      samStartTime: processStartTime(process.pid),
      mode: backend.mode,
      cgroupDirs: backend.cgroupDirs,
    },
    cell,
    killAll,
    dispose: () => {
      disposed ??= dispose()
      return disposed
    },
    subscribe: (listener) => {
      for (const [c, leader] of live)
        if (leader !== undefined) listener({ type: "adopted", cell: c.id, pid: leader })
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
