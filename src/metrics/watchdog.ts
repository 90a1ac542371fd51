// The watchdog over SAM itself: event-loop lag (an interval timer's lateness, the largest in each
// window), SAM's own resident memory and heap (against V8's heap limit), instances stuck in
// `starting` or `stopping` past their bound, and whether the reaper still runs. Its report feeds
// GET /api/status (`watchdog`, and `health`), its gauges /metrics, its lag the sam_event_loop_lag alert.
import { getHeapStatistics } from "node:v8"
import { Gauge, type Registry } from "prom-client"
import type { Sam } from "../runtime/sam.ts"

export type FindingStatus = "ok" | "warning" | "critical"

export interface WatchdogFinding {
  readonly check: "event_loop" | "memory" | "stuck_transitions" | "reaper"
  readonly status: FindingStatus
  readonly detail: string
}

export interface StuckInstance {
  readonly unit: string
  readonly instance: number
  readonly state: "starting" | "stopping"
  readonly since: string
  readonly seconds: number
  readonly bound_seconds: number
}

export interface WatchdogReport {
  /** The largest event-loop lag seen in the last window (ms). */
  readonly event_loop_lag_ms: number
  readonly rss_bytes: number
  readonly heap_used_bytes: number
  readonly heap_limit_bytes: number
  readonly stuck: ReadonlyArray<StuckInstance>
  /** null: this SAM runs no reaper (containment off, or reaper: false). */
  readonly reaper: { readonly pid: number; readonly alive: boolean } | null
  readonly findings: ReadonlyArray<WatchdogFinding>
}

export interface WatchdogOptions {
  /** How often the checks run, and the window of the lag figure (default 1 s). */
  readonly intervalMs?: number
  /** How often the lag timer ticks (default 50 ms); lag is its lateness. */
  readonly lagResolutionMs?: number
  /** Lag above this is a warning finding (default 500 ms). */
  readonly lagWarnMs?: number
  /** Heap used above this share of V8's limit is a warning (default 0.9). */
  readonly heapWarnRatio?: number
  /** An instance `starting` longer than this is stuck (default 120 s: spawns, image pulls, agent set-up). */
  readonly startingBoundMs?: number
  /**
   * An instance `stopping` longer than twice its grace period (a drain of the gateway's requests,
   * then its stop signal's grace) plus this is stuck (default 15 s).
   */
  readonly stoppingSlackMs?: number
}

type WatchedSam = Pick<Sam, "events" | "status" | "unitSpecs" | "reaperStatus">

const worst = (findings: ReadonlyArray<WatchdogFinding>): FindingStatus =>
  findings.some((f) => f.status === "critical")
    ? "critical"
    : findings.some((f) => f.status === "warning")
      ? "warning"
      : "ok"

export class Watchdog {
  private readonly sam: WatchedSam
  private readonly options: Required<WatchdogOptions>
  private readonly entered = new Map<string, { state: string; since: number }>()
  private readonly offEvents: () => void
  private timers: Array<ReturnType<typeof setInterval>> = []
  private windowLagMs = 0
  private lastTick = performance.now()
  private current: WatchdogReport

  constructor(sam: WatchedSam, options: WatchdogOptions = {}) {
    this.sam = sam
    this.options = {
      intervalMs: options.intervalMs ?? 1_000,
      lagResolutionMs: options.lagResolutionMs ?? 50,
      lagWarnMs: options.lagWarnMs ?? 500,
      heapWarnRatio: options.heapWarnRatio ?? 0.9,
      startingBoundMs: options.startingBoundMs ?? 120_000,
      stoppingSlackMs: options.stoppingSlackMs ?? 15_000,
    }
    // When each instance entered its state, as the bus tells (top state: running.ready → running).
    this.offEvents = sam.events.subscribe((event) => {
      if (event.type !== "transition") return
      const state = event.to.split(".")[0] ?? event.to
      this.entered.set(`${event.unit}#${event.instance}`, { state, since: Date.parse(event.at) })
    })
    this.current = this.check(0)
  }

  /** Start the lag timer and the periodic checks (both unref'd: they never keep SAM alive). */
  start(): void {
    if (this.timers.length > 0) return
    const resolution = this.options.lagResolutionMs
    this.lastTick = performance.now()
    const lag = setInterval(() => {
      const now = performance.now()
      this.windowLagMs = Math.max(this.windowLagMs, now - this.lastTick - resolution)
      this.lastTick = now
    }, resolution)
    const checks = setInterval(() => {
      // A window in which the lag timer could not even fire counts up to now.
      const pending = Math.max(0, performance.now() - this.lastTick - resolution)
      const lagMs = Math.max(this.windowLagMs, pending)
      this.windowLagMs = 0
      this.current = this.check(lagMs)
    }, this.options.intervalMs)
    lag.unref()
    checks.unref()
    this.timers = [lag, checks]
  }

  /** The last report (taken at the last check). */
  report(): WatchdogReport {
    return this.current
  }

  /** Overall: the worst finding's status. */
  status(): FindingStatus {
    return worst(this.current.findings)
  }

  /** Register the watchdog's gauges. */
  register(registry: Registry): void {
    const registers = [registry]
    const self = this
    new Gauge({
      name: "sam_event_loop_lag_seconds",
      help: "The largest lag of SAM's event loop in the watchdog's last window.",
      registers,
      collect() {
        this.set(self.current.event_loop_lag_ms / 1000)
      },
    })
    new Gauge({
      name: "sam_watchdog_check_ok",
      help: "1 when the watchdog's check (event_loop, memory, stuck_transitions, reaper) found nothing wrong, else 0.",
      labelNames: ["check"],
      registers,
      collect() {
        this.reset()
        for (const f of self.current.findings) this.set({ check: f.check }, f.status === "ok" ? 1 : 0)
      },
    })
    new Gauge({
      name: "sam_stuck_instances",
      help: "Instances in starting or stopping for longer than their bound.",
      registers,
      collect() {
        this.set(self.current.stuck.length)
      },
    })
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.offEvents()
  }

  private check(lagMs: number): WatchdogReport {
    const now = Date.now()
    const memory = process.memoryUsage()
    const heapLimit = getHeapStatistics().heap_size_limit
    const graceOf = new Map(this.sam.unitSpecs().map((s) => [s.id, s.stop.graceMs]))
    const stuck: StuckInstance[] = []
    const keys = new Set<string>()
    for (const unit of this.sam.status().units) {
      for (const i of unit.instances) {
        const key = `${unit.id}#${i.instance}`
        keys.add(key)
        let entry = this.entered.get(key)
        if (!entry || entry.state !== i.state) {
          entry = { state: i.state, since: now }
          this.entered.set(key, entry)
        }
        if (i.state !== "starting" && i.state !== "stopping") continue
        const bound =
          i.state === "starting"
            ? this.options.startingBoundMs
            : 2 * (graceOf.get(unit.id) ?? 10_000) + this.options.stoppingSlackMs
        if (now - entry.since > bound)
          stuck.push({
            unit: unit.id,
            instance: i.instance,
            state: i.state,
            since: new Date(entry.since).toISOString(),
            seconds: Math.round((now - entry.since) / 100) / 10,
            bound_seconds: bound / 1000,
          })
      }
    }
    for (const key of [...this.entered.keys()]) if (!keys.has(key)) this.entered.delete(key)
    const reaper = this.sam.reaperStatus() ?? null
    const lag = Math.round(lagMs * 10) / 10
    const heapRatio = memory.heapUsed / heapLimit
    const findings: WatchdogFinding[] = [
      lag > this.options.lagWarnMs
        ? {
            check: "event_loop",
            status: "warning",
            detail: `event loop lagged ${lag} ms (above ${this.options.lagWarnMs} ms)`,
          }
        : { check: "event_loop", status: "ok", detail: `event loop lag ${lag} ms` },
      heapRatio > this.options.heapWarnRatio
        ? {
            check: "memory",
            status: "warning",
            detail: `heap ${mib(memory.heapUsed)} of its ${mib(heapLimit)} limit (${Math.round(heapRatio * 100)} %); resident ${mib(memory.rss)}`,
          }
        : {
            check: "memory",
            status: "ok",
            detail: `heap ${mib(memory.heapUsed)}, resident ${mib(memory.rss)}`,
          },
      stuck.length > 0
        ? {
            check: "stuck_transitions",
            status: "warning",
            detail: stuck
              .map(
                (s) => `${s.unit}#${s.instance} ${s.state} for ${s.seconds} s (bound ${s.bound_seconds} s)`,
              )
              .join("; "),
          }
        : { check: "stuck_transitions", status: "ok", detail: "no instance is stuck starting or stopping" },
      reaper === null
        ? { check: "reaper", status: "ok", detail: "no reaper (containment off)" }
        : reaper.alive
          ? { check: "reaper", status: "ok", detail: `reaper running (pid ${reaper.pid})` }
          : {
              check: "reaper",
              status: "critical",
              detail: `SAM's reaper (pid ${reaper.pid}) is gone: should SAM die hard now, its units would keep running; restart SAM to get a new one`,
            },
    ]
    return {
      event_loop_lag_ms: lag,
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      heap_limit_bytes: heapLimit,
      stuck,
      reaper,
      findings,
    }
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`
