// A supervisor's own memory: the resident memory of its process tree read from /proc, without
// the services it runs (and their descendants). The same reading for SAM, PM2 and any other tool.
import { readdirSync, readFileSync } from "node:fs"
import { residentBytes } from "../../src/runtime/os/proc.ts"

/** Direct children of `pid`, over all its threads (a child belongs to the thread that forked it). */
export const childrenOf = (pid: number): number[] => {
  let tasks: string[]
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
  return tasks.flatMap((tid) => {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim()
      return text === "" ? [] : text.split(/\s+/).map(Number)
    } catch {
      return []
    }
  })
}

/** `pid` and its descendants, leaving out each pid of `exclude` with everything under it. */
export const treeOf = (pid: number, exclude: ReadonlySet<number> = new Set()): number[] => {
  const tree: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const next = queue.shift()!
    if (exclude.has(next)) continue
    tree.push(next)
    queue.push(...childrenOf(next))
  }
  return tree
}

/** Resident bytes of `pid`'s tree without `exclude`; `processes` says how many were summed. */
export const treeResident = (
  pid: number,
  exclude: ReadonlySet<number> = new Set(),
): { bytes: number; processes: number } => {
  const pids = treeOf(pid, exclude)
  return { bytes: pids.reduce((sum, p) => sum + (residentBytes(p) ?? 0), 0), processes: pids.length }
}
