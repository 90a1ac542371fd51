// Restarts and failures of units as they happen, read off the event bus: each restart with its
// reason (the failure that caused it, or "requested" for operator, dependency and group restarts)
// and each failure with its kind. unitSeries.ts counts them; the restart_rate alert asks how
// many restarts a unit had within a window.
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
  private readonly keepMs: number

  /** `keepMs`: how far back windowed counts may look (the longest restart_rate window). */
  constructor(keepMs = 24 * 60 * 60 * 1000) {
    this.keepMs = keepMs
  }

  /** Feed one bus event (subscribe this to `sam.events`). */
  readonly observe = (event: SamEvent): void => {
    if (event.type === "instance.failed") {
      const unit = String(event.unit)
      const instance = Number(event.instance)
      const failure = String(event.failure ?? "exit")
      this.lastFailure.set(`${unit}#${instance}`, failure)
      const record = { unit, instance, failure, at: Date.parse(event.at) }
      for (const listener of this.listeners) listener.failure?.(record)
      return
    }
    if (event.type !== "transition" || event.to !== "starting") return
    // What InstanceRunner counts as a restart: starting again after having run, not a first start.
    if (event.from === "stopped" || event.from === "starting") return
    const key = `${event.unit}#${event.instance}`
    const failed = event.from === "backoff" || event.from === "crashed" || event.from === "error"
    const reason = failed ? (this.lastFailure.get(key) ?? "exit") : "requested"
    const at = Date.parse(event.at)
    const stamps = this.restarts.get(event.unit) ?? []
    stamps.push(at)
    while (stamps.length > keepPerUnit || (stamps.length > 0 && at - stamps[0]! > this.keepMs)) stamps.shift()
    this.restarts.set(event.unit, stamps)
    const record = { unit: event.unit, instance: event.instance, reason, at }
    for (const listener of this.listeners) listener.restart?.(record)
  }

  /** Restarts of `unit` (all its instances) at or after `since` (epoch ms). */
  restartsSince(unit: string, since: number): number {
    const stamps = this.restarts.get(unit)
    if (!stamps) return 0
    let count = 0
    for (let i = stamps.length - 1; i >= 0 && stamps[i]! >= since; i--) count++
    return count
  }

  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}
