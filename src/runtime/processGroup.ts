// Signals to a whole process group and liveness checks that ignore zombies. SAM starts every
// child as the leader of its own group (detached), so a signal to -pgid reaches grandchildren too.
// On Linux, /proc tells live members from zombies: orphaned grandchildren may be reparented to
// an init that never reaps them, and a zombie must not count as "still running".
import { readdirSync, readFileSync } from "node:fs"

const hasProc = process.platform === "linux"

/** Send `signal` to every process in group `pgid`; false when the group no longer exists. */
export const signalGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

interface ProcStat {
  readonly pid: number
  readonly state: string
  readonly pgrp: number
}

const readStat = (pid: number): ProcStat | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ")
    return { pid, state: rest[0] ?? "?", pgrp: Number(rest[2]) }
  } catch {
    return undefined
  }
}

/** True when `pid` exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (!hasProc) return true
  const stat = readStat(pid)
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X"
}

/** Live (non-zombie) members of process group `pgid`. */
export const liveGroupMembers = (pgid: number): ReadonlyArray<number> => {
  if (!signalGroup(pgid, 0)) return []
  if (!hasProc) return [pgid]
  const members: number[] = []
  for (const name of readdirSync("/proc")) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const stat = readStat(pid)
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") members.push(pid)
  }
  return members
}

export const groupAlive = (pgid: number): boolean => liveGroupMembers(pgid).length > 0

/** True when every live member of the group is stopped (SIGSTOP took effect). */
export const groupStopped = (pgid: number): boolean => {
  if (!hasProc) return true
  return liveGroupMembers(pgid).every((pid) => {
    const state = readStat(pid)?.state
    return state === "T" || state === "t" || state === undefined
  })
}
