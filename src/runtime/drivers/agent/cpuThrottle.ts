// Holds an agent process near `max_cpu_percent` (of one core). With a writable cgroup v2 the
// kernel does it (`cpu.max`); otherwise (cgroup v1, macOS, no delegation) SAM measures the
// group's CPU time from /proc and runs a SIGSTOP/SIGCONT duty cycle: a token bucket that stops
// the group for exactly as long as it takes to pay back CPU used beyond its share.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cpuMillis, sumOver } from "../../os/proc.ts"
import { liveGroupMembers, signalGroup } from "../../processGroup.ts"

export type ThrottleMechanism = "cgroup-v2" | "duty-cycle"

export interface CpuThrottle {
  readonly mechanism: ThrottleMechanism
  /** The operator suspended the instance: leave its signals alone. */
  pause(): void
  resume(): void
  /** Stop throttling (continue the group if it is held) and release the cgroup. Idempotent. */
  stop(): void
  /** CPU used since the throttle started, as a percentage of one core. */
  achievedPercent(): number
}

/** Accounting period of the duty cycle: short enough that pauses stay below heartbeat TTLs. */
const periodMs = 50
/** How often the group's member list is refreshed (a scan of /proc). */
const membersRefreshMs = 1_000

export const throttleCpu = (pgid: number, percent: number, name: string): CpuThrottle =>
  cgroupThrottle(pgid, percent, name) ?? dutyCycleThrottle(pgid, percent)

const dutyCycleThrottle = (pgid: number, percent: number): CpuThrottle => {
  const share = percent / 100
  let members: ReadonlyArray<number> = [pgid]
  let membersAt = 0
  const sample = (): number | undefined => {
    const now = performance.now()
    if (now - membersAt > membersRefreshMs) {
      membersAt = now
      const live = liveGroupMembers(pgid)
      members = live.length > 0 ? live : [pgid]
    }
    return sumOver(members, cpuMillis)
  }
  const startCpu = sample() ?? 0
  const startAt = performance.now()
  let lastCpu = startCpu
  let lastAt = startAt
  let balance = 0
  let held = false
  let paused = false
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const schedule = (ms: number) => {
    timer = setTimeout(tick, ms)
    timer.unref()
  }
  const reset = () => {
    lastCpu = sample() ?? lastCpu
    lastAt = performance.now()
    balance = 0
  }
  function tick() {
    if (stopped) return
    if (paused) return schedule(periodMs)
    const cpu = sample()
    if (cpu === undefined) return // the group is gone
    const now = performance.now()
    // A member that exited takes its CPU time with it: never count negative use.
    const used = Math.max(0, cpu - lastCpu)
    balance = Math.min(balance + (now - lastAt) * share - used, periodMs * share)
    lastCpu = cpu
    lastAt = now
    if (balance < 0) {
      if (!held) held = signalGroup(pgid, "SIGSTOP")
      return schedule(Math.max(1, -balance / share))
    }
    if (held) {
      signalGroup(pgid, "SIGCONT")
      held = false
    }
    schedule(periodMs)
  }
  schedule(periodMs)

  return {
    mechanism: "duty-cycle",
    pause: () => {
      paused = true
      held = false // the operator's SIGSTOP/SIGCONT own the group now
    },
    resume: () => {
      paused = false
      reset()
    },
    stop: () => {
      if (stopped) return
      stopped = true
      if (timer) clearTimeout(timer)
      if (held) signalGroup(pgid, "SIGCONT")
      held = false
    },
    achievedPercent: () => {
      const cpu = sample() ?? lastCpu
      return ((cpu - startCpu) / (performance.now() - startAt)) * 100
    },
  }
}

/**
 * cgroup v2 `cpu.max` in a child cgroup of SAM's own (or of SAM_CGROUP_DIR, a delegated
 * directory): only when the hierarchy is unified, the cpu controller is enabled for children
 * and SAM may write there. Any failure means "not available" and the duty cycle is used.
 */
const cgroupThrottle = (pid: number, percent: number, name: string): CpuThrottle | undefined => {
  const root = "/sys/fs/cgroup"
  if (!existsSync(join(root, "cgroup.controllers"))) return undefined
  let dir: string | undefined
  try {
    const own = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((line) => line.startsWith("0::"))
      ?.slice(3)
    const base = process.env.SAM_CGROUP_DIR ?? (own === undefined ? undefined : join(root, own))
    if (base === undefined) return undefined
    const enabled = readFileSync(join(base, "cgroup.subtree_control"), "utf8").split(/\s+/)
    if (!enabled.includes("cpu")) return undefined
    dir = join(base, `sam-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${pid}`)
    mkdirSync(dir)
    const periodUs = 100_000
    writeFileSync(
      join(dir, "cpu.max"),
      `${Math.max(1_000, Math.round((percent / 100) * periodUs))} ${periodUs}`,
    )
    writeFileSync(join(dir, "cgroup.procs"), String(pid))
  } catch {
    if (dir) removeCgroup(dir)
    return undefined
  }
  const cgroup = dir
  const startCpu = cpuMillis(pid) ?? 0
  const startAt = performance.now()
  return {
    mechanism: "cgroup-v2",
    pause: () => {},
    resume: () => {},
    // The directory can only go once its processes have exited; stop() is retried on exit.
    stop: () => removeCgroup(cgroup),
    achievedPercent: () => (((cpuMillis(pid) ?? startCpu) - startCpu) / (performance.now() - startAt)) * 100,
  }
}

const removeCgroup = (dir: string): void => {
  try {
    rmdirSync(dir)
  } catch {
    // Still populated, or already gone.
  }
}
