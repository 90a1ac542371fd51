// Restarts, failures and crash loops of units as they happen, read off the event bus: each restart
// with its reason (the failure that caused it, or "requested" for operator, dependency and group
// restarts), each failure with its kind, and which units are crash-looping. unitSeries.ts counts
// them; the restart_rate and crash_loop alerts ask about windows and loops.
import { isCleanExit } from "../runtime/cleanExit.ts"
import type { SamEvent } from "../runtime/eventBus.ts"

export interface Restart {
  readonly unit: string
  readonly instance: number
  /** exit, liveness, heartbeat, memory, spawn, ... (the failure), or "requested". */
  readonly reason: string
  readonly at: number
}

export interface Failure {
  readonly unit: string
  readonly instance: number
  /** exit, spawn, liveness, heartbeat, memory, ... (the instance.failed event's `failure`). */
  readonly failure: string
  readonly at: number
}

export interface IncidentListener {
  readonly restart?: (restart: Restart) => void
  readonly failure?: (failure: Failure) => void
}

/** Restarts kept per unit for windowed counts; older ones than `keepMs` are dropped too. */
const keepPerUnit = 1_000

export class UnitIncidents {
  private readonly lastFailure = new Map<string, string>()
  private readonly restarts = new Map<string, number[]>()
  private readonly listeners = new Set<IncidentListener>()
  /** Per unit, the instances in a crash loop: since when, and since when they are ready again. */
  private readonly crashed = new Map<string, Map<number, { since: number; readyAt: number | undefined }>>()
  private readonly keepMs: number
  private readonly stableMs: number

  /**
   * `keepMs`: how far back windowed counts may look (the longest restart_rate window).
   * `stableMs`: ready this long and a crash loop is over (the restart policy's default stable period).
   */
  constructor(options: { keepMs?: number; stableMs?: number } = {}) {
    this.keepMs = options.keepMs ?? 24 * 60 * 60 * 1000
    this.stableMs = options.stableMs ?? 10_000
  }

  /** Feed one bus event (subscribe this to `sam.events`). */
  readonly observe = (event: SamEvent): void => {
    if (event.type === "instance.failed") {
      const unit = String(event.unit)
      const instance = Number(event.instance)
      const failure = String(event.failure ?? "exit")
      this.lastFailure.set(`${unit}#${instance}`, failure)
      // A clean exit is no crash: its restart still counts (reason exit), not a failure.
      if (isCleanExit(event)) return
      const record = { unit, instance, failure, at: Date.parse(event.at) }
      for (const listener of this.listeners) listener.failure?.(record)
      return
    }
    if (event.type !== "transition") return
    this.trackCrash(event.unit, event.instance, event.to, Date.parse(event.at))
    if (event.to !== "starting") return
    // What InstanceRunner counts as a restart: starting again after having run, not a first start.
    if (event.from === "stopped" || event.from === "starting") return
    const key = `${event.unit}#${event.instance}`
    const failed = event.from === "backoff" || event.from === "crashed" || event.from === "error"
    const reason = failed ? (this.lastFailure.get(key) ?? "exit") : "requested"
    const at = Date.parse(event.at)
    // restart_rate counts what SAM had to do, not what an operator, a dependency or a group asked.
    if (failed) {
      const stamps = this.restarts.get(event.unit) ?? []
      stamps.push(at)
      while (stamps.length > keepPerUnit || (stamps.length > 0 && at - stamps[0]! > this.keepMs))
        stamps.shift()
      this.restarts.set(event.unit, stamps)
    }
    const record = { unit: event.unit, instance: event.instance, reason, at }
    for (const listener of this.listeners) listener.restart?.(record)
  }

  /** Restarts of `unit` (all its instances) after a failure, at or after `since` (epoch ms). */
  restartsSince(unit: string, since: number): number {
    const stamps = this.restarts.get(unit)
    if (!stamps) return 0
    let count = 0
    for (let i = stamps.length - 1; i >= 0 && stamps[i]! >= since; i--) count++
    return count
  }

  /**
   * Since when `unit` has been in a crash loop: an instance of it went `crashed` (past its restart
   * intensity) and has not been ready for `stableMs` since, nor stopped. Retries that come up
   * ready for a moment and die again do not end it.
   */
  crashLoopSince(unit: string, now = Date.now()): number | undefined {
    const instances = this.crashed.get(unit)
    if (!instances) return undefined
    for (const [instance, loop] of instances)
      if (loop.readyAt !== undefined && now - loop.readyAt >= this.stableMs) instances.delete(instance)
    if (instances.size === 0) {
      this.crashed.delete(unit)
      return undefined
    }
    return Math.min(...[...instances.values()].map((l) => l.since))
  }

  private trackCrash(unit: string, instance: number, to: string, at: number): void {
    const instances = this.crashed.get(unit)
    const loop = instances?.get(instance)
    if (to === "crashed") {
      const stableBefore = loop?.readyAt !== undefined && at - loop.readyAt >= this.stableMs
      const map = instances ?? new Map()
      map.set(
        instance,
        loop && !stableBefore ? { since: loop.since, readyAt: undefined } : { since: at, readyAt: undefined },
      )
      this.crashed.set(unit, map)
      return
    }
    if (!loop || !instances) return
    if (to === "stopped") instances.delete(instance)
    else if (to === "running.ready") loop.readyAt = at
    else if (loop.readyAt !== undefined) {
      // Leaving ready: after a stable stretch the loop was over; sooner, it goes on.
      if (at - loop.readyAt >= this.stableMs) instances.delete(instance)
      else loop.readyAt = undefined
    }
    if (instances.size === 0) this.crashed.delete(unit)
  }

  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}
