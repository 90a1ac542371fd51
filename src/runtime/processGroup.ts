// Signals to a whole process group and liveness checks that ignore zombies. SAM starts every
// child as the leader of its own group (detached), so a signal to -pgid reaches grandchildren too.
// On Linux, /proc (os/proc.ts) tells live members from zombies: orphaned grandchildren may be
// reparented to an init that never reaps them, and a zombie must not count as "still running".
import { hasProc, isDead, listPids, readStat } from "./os/proc.ts"

/** Send `signal` to every process in group `pgid`; false when the group no longer exists. */
export const signalGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Live (non-zombie) members of process group `pgid`. */
export const liveGroupMembers = (pgid: number): ReadonlyArray<number> => {
  if (!signalGroup(pgid, 0)) return []
  if (!hasProc) return [pgid]
  const members: number[] = []
  for (const pid of listPids()) {
    const stat = readStat(pid)
    if (stat && stat.pgrp === pgid && !isDead(stat)) members.push(pid)
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
