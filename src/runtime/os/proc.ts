// Linux /proc, read in one place: process status, start time, memory, CPU, environment. The
// process-group helpers, the orphan reaper, resource limits and containment all read it here;
// elsewhere (macOS) every reader answers undefined (or "unknown") and callers fall back.
import { readdirSync, readFileSync } from "node:fs"

export const hasProc = process.platform === "linux"

/** The fields of /proc/<pid>/stat that SAM uses (proc(5) numbers them from 1). */
export interface ProcStat {
  readonly pid: number
  readonly ppid: number
  readonly pgrp: number
  readonly session: number
  /** R, S, D, T, t, Z, X, … (field 3). */
  readonly state: string
  readonly utimeTicks: number
  readonly stimeTicks: number
  /** Start time in clock ticks since boot (field 22), as text: with the pid it names a process. */
  readonly startTime: string
  readonly rssPages: number
}

/** Parse one /proc/<pid>/stat line; undefined when it is not one. */
export const parseStat = (pid: number, text: string): ProcStat | undefined => {
  // The command name (field 2) is in parentheses and may contain spaces and ')': the fields
  // start after the last ')'. fields[0] is field 3.
  const close = text.lastIndexOf(")")
  if (close < 0) return undefined
  const fields = text.slice(close + 2).split(" ")
  const state = fields[0]
  const startTime = fields[19]
  if (state === undefined || startTime === undefined) return undefined
  return {
    pid,
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    state,
    utimeTicks: Number(fields[11]),
    stimeTicks: Number(fields[12]),
    startTime,
    rssPages: Number(fields[21]),
  }
}

export const readStat = (pid: number): ProcStat | undefined => {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return undefined
  }
}

/** A zombie (exited, not yet reaped) or dead task: it holds a pid but runs nothing. */
export const isDead = (stat: ProcStat): boolean => stat.state === "Z" || stat.state === "X"

/** True when `pid` exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (!hasProc) return true
  const stat = readStat(pid)
  return stat !== undefined && !isDead(stat)
}

/** Field 22 of /proc/<pid>/stat; "" when unknown. Compare it to tell a reused pid apart. */
export const processStartTime = (pid: number): string => readStat(pid)?.startTime ?? ""

/** Every pid in /proc (threads excluded), in no particular order. */
export const listPids = (): number[] => {
  if (!hasProc) return []
  const pids: number[] = []
  for (const name of readdirSync("/proc")) {
    const pid = Number(name)
    if (Number.isInteger(pid) && pid > 0) pids.push(pid)
  }
  return pids
}

/**
 * The environment `pid` was started with (/proc/<pid>/environ, NUL-separated); undefined when
 * it is unreadable (another user's process without root, a zombie, a kernel thread, gone).
 * It is the block given at exec: a later setenv in the process does not show here.
 */
export const readEnviron = (pid: number): Map<string, string> | undefined => {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/environ`, "utf8")
  } catch {
    return undefined
  }
  if (text === "") return undefined
  const environment = new Map<string, string>()
  for (const entry of text.split("\0")) {
    const equals = entry.indexOf("=")
    if (equals > 0) environment.set(entry.slice(0, equals), entry.slice(equals + 1))
  }
  return environment
}

// Clock ticks per second and page size come from the auxiliary vector the kernel hands every
// process (AT_CLKTCK = 17, AT_PAGESZ = 6): exact, and no `getconf` child at start. Fallbacks are
// Linux's USER_HZ (100 on every mainstream architecture) and 4 KiB pages.
const auxvalue = (type: number): number | undefined => {
  // Pairs of 64-bit little-endian words; other layouts (32-bit, s390x) take the fallback.
  if (!["x64", "arm64", "riscv64", "loong64", "ppc64"].includes(process.arch)) return undefined
  try {
    const auxv = readFileSync("/proc/self/auxv")
    for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
      const key = Number(auxv.readBigUInt64LE(offset))
      if (key === 0) break
      if (key === type) return Number(auxv.readBigUInt64LE(offset + 8))
    }
  } catch {
    // Not Linux: use the fallback.
  }
  return undefined
}

let ticks: number | undefined
let page: number | undefined

/** sysconf(_SC_CLK_TCK): the unit of utime/stime/starttime in /proc/<pid>/stat. */
export const clockTicksPerSecond = (): number => {
  ticks ??= auxvalue(17) || 100
  return ticks
}

/** sysconf(_SC_PAGESIZE): the unit of rss in /proc/<pid>/stat. */
export const pageSize = (): number => {
  page ??= auxvalue(6) || 4096
  return page
}

/** Resident memory of `pid` in bytes; undefined when it is gone, a zombie, or /proc is absent. */
export const residentBytes = (pid: number): number | undefined => {
  const stat = readStat(pid)
  return stat === undefined || isDead(stat) ? undefined : stat.rssPages * pageSize()
}

/** CPU time (user + system) `pid` has used, in seconds. */
export const cpuSeconds = (pid: number): number | undefined => {
  const stat = readStat(pid)
  if (stat === undefined || !Number.isFinite(stat.utimeTicks) || !Number.isFinite(stat.stimeTicks)) {
    return undefined
  }
  return (stat.utimeTicks + stat.stimeTicks) / clockTicksPerSecond()
}

/** CPU time (user + system) `pid` has used, in milliseconds. */
export const cpuMillis = (pid: number): number | undefined => {
  const seconds = cpuSeconds(pid)
  return seconds === undefined ? undefined : seconds * 1000
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
