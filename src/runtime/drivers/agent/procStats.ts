// Per-process memory and CPU from Linux /proc, for enforcing agent limits. Elsewhere every
// reader returns undefined and SAM falls back to what the agent reports in its heartbeats.
import { readFileSync } from "node:fs"

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every mainstream arch. */
const ticksPerSecond = 100

/** Resident memory of `pid` in bytes (VmRSS), undefined when it is gone or /proc is absent. */
export const residentBytes = (pid: number): number | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** CPU time (user + system) `pid` has used, in milliseconds. */
export const cpuMillis = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined
    return ((utime + stime) * 1000) / ticksPerSecond
  } catch {
    return undefined
  }
}

/** Sum of `read` over `pids`, ignoring processes that vanished; undefined if none answered. */
export const sumOver = (pids: ReadonlyArray<number>, read: (pid: number) => number | undefined) => {
  let total: number | undefined
  for (const pid of pids) {
    const value = read(pid)
    if (value !== undefined) total = (total ?? 0) + value
  }
  return total
}
