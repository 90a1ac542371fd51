// A short in-memory history per unit for the dashboard: CPU (percent of one core, all instances
// summed), resident memory (bytes, summed) and requests per second (gateway requests for a
// service, capability invocations for an agent), one point per interval in fixed rings (default
// 180 points at 5 s: 15 minutes). Served by GET /api/{services,agents}/:id/metrics. Also the
// request rate now, over the last interval (per-second buckets), for the event stream's live
// `usage` samples.
import type { UnitStatus } from "../runtime/sam.ts"

export type Point = readonly [t: number, value: number]

export interface UnitSeriesView {
  readonly cpu_percent: ReadonlyArray<Point>
  readonly memory_bytes: ReadonlyArray<Point>
  readonly requests_per_second: ReadonlyArray<Point>
}

/** One fixed-size ring of (time, value) points; the oldest is overwritten. */
class Ring {
  private readonly times: Float64Array
  private readonly values: Float64Array
  private next = 0
  private size = 0

  constructor(capacity: number) {
    this.times = new Float64Array(capacity)
    this.values = new Float64Array(capacity)
  }

  push(t: number, value: number): void {
    this.times[this.next] = t
    this.values[this.next] = value
    this.next = (this.next + 1) % this.times.length
    this.size = Math.min(this.size + 1, this.times.length)
  }

  /** Oldest first. */
  points(): Array<Point> {
    const out: Array<Point> = []
    const capacity = this.times.length
    for (let n = 0; n < this.size; n++) {
      const i = (this.next - this.size + n + capacity) % capacity
      out.push([this.times[i]!, this.values[i]!])
    }
    return out
  }
}

interface UnitRings {
  readonly cpu: Ring
  readonly memory: Ring
  readonly requests: Ring
}

const round = (value: number, digits: number) => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export class UnitHistory {
  readonly intervalMs: number
  private readonly capacity: number
  private readonly rings = new Map<string, UnitRings>()
  private readonly requests = new Map<string, number>()
  /** Per unit, requests counted in each of the last seconds: [epoch second, count], oldest first. */
  private readonly recentSeconds = new Map<string, Array<[number, number]>>()
  private lastSample: number | undefined

  constructor(options: { intervalMs?: number; points?: number } = {}) {
    this.intervalMs = options.intervalMs ?? 5_000
    this.capacity = options.points ?? 180
  }

  /** Count one request served by `unit` (a gateway request, a capability invocation). */
  countRequest(unit: string, now = Date.now()): void {
    this.requests.set(unit, (this.requests.get(unit) ?? 0) + 1)
    const second = Math.floor(now / 1000)
    const buckets = this.recentSeconds.get(unit) ?? []
    const last = buckets.at(-1)
    if (last !== undefined && last[0] === second) last[1]++
    else buckets.push([second, 1])
    while (buckets.length > 0 && (buckets[0]?.[0] ?? second) <= second - this.windowSeconds()) buckets.shift()
    this.recentSeconds.set(unit, buckets)
  }

  /** The sliding window of requestRate: one interval, in whole seconds (at least 1). */
  private windowSeconds(): number {
    return Math.max(1, Math.round(this.intervalMs / 1000))
  }

  /**
   * `unit`'s requests per second over the last interval (5 s) up to `now`, whole seconds: what
   * its next history point will say, but at any moment (the live `usage` samples, every 2 s).
   */
  requestRate(unit: string, now = Date.now()): number {
    const window = this.windowSeconds()
    const from = Math.floor(now / 1000) - window
    const buckets = this.recentSeconds.get(unit) ?? []
    const count = buckets.reduce((n, [second, c]) => (second > from ? n + c : n), 0)
    return round(count / window, 3)
  }

  /** Take one point per unit from their statuses; units no longer configured are forgotten. */
  sample(now: number, units: ReadonlyArray<UnitStatus>): void {
    const seconds = this.lastSample === undefined ? this.intervalMs / 1000 : (now - this.lastSample) / 1000
    this.lastSample = now
    const seen = new Set<string>()
    for (const unit of units) {
      seen.add(unit.id)
      let rings = this.rings.get(unit.id)
      if (!rings) {
        rings = {
          cpu: new Ring(this.capacity),
          memory: new Ring(this.capacity),
          requests: new Ring(this.capacity),
        }
        this.rings.set(unit.id, rings)
      }
      let cpu = 0
      let memory = 0
      for (const i of unit.instances) {
        const live = i.state === "running" || i.state === "suspended" || i.state === "stopping"
        if (!live || !i.lastUsage) continue
        cpu += i.lastUsage.cpuPercent
        memory += i.lastUsage.rssBytes
      }
      rings.cpu.push(now, round(cpu, 2))
      rings.memory.push(now, memory)
      rings.requests.push(now, round((this.requests.get(unit.id) ?? 0) / Math.max(seconds, 0.001), 3))
    }
    for (const id of [...this.rings.keys()]) if (!seen.has(id)) this.rings.delete(id)
    for (const id of [...this.recentSeconds.keys()]) if (!seen.has(id)) this.recentSeconds.delete(id)
    this.requests.clear()
  }

  /** The unit's points, oldest first (empty series before the first sample). */
  series(unit: string): UnitSeriesView {
    const rings = this.rings.get(unit)
    return {
      cpu_percent: rings?.cpu.points() ?? [],
      memory_bytes: rings?.memory.points() ?? [],
      requests_per_second: rings?.requests.points() ?? [],
    }
  }
}
