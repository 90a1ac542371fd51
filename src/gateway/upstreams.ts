// One keep-alive undici Pool per instance URL, with the requests in flight to it: the balancer
// reads those counts, the autoscaler reads them (inFlight) and waits on them (drain) before it
// stops an instance. An instance that leaves the routing table keeps its pool until its last
// request ends, then the pool closes.
import { createRequire } from "node:module"
import type { Pool } from "undici"

/**
 * undici, loaded when the first upstream is made: a SAM whose gateway forwards nothing does not
 * carry its ~1 MB of JavaScript (bench/RESULTS.md, "Findings"). undici is CommonJS, so a require
 * loads it synchronously; the bundle leaves this require alone and resolves undici from node_modules.
 */
let poolClass: typeof Pool | undefined
const loadPool = (): typeof Pool => {
  poolClass ??= (createRequire(import.meta.url)("undici") as typeof import("undici")).Pool
  return poolClass
}

export class Upstream {
  readonly url: string
  readonly unit: string
  readonly instance: number
  readonly pool: Pool
  readonly connectMs: number
  inFlight = 0
  retired = false

  constructor(url: string, unit: string, instance: number, connectMs: number) {
    this.url = url
    this.unit = unit
    this.instance = instance
    this.connectMs = connectMs
    this.pool = new (loadPool())(url, {
      // As many connections as requests in flight: max_in_flight (admission) is the bound. A cap
      // here queued request 129 and on inside undici, unbounded and unseen by max_in_flight.
      connections: null,
      pipelining: 1,
      connectTimeout: connectMs,
      keepAliveTimeout: 4_000,
      // Per-request timeouts (ttfb_ms, idle_ms) are given with each request.
      headersTimeout: 0,
      bodyTimeout: 0,
    })
  }
}

const key = (unit: string, instance: number) => `${unit}#${instance}`

export class Upstreams {
  private readonly live = new Map<string, Upstream>()
  private readonly retiring = new Set<Upstream>()
  private readonly drains = new Map<string, Array<() => void>>()
  private closed = false
  private readonly report: (message: string) => void

  constructor(report: (message: string) => void) {
    this.report = report
  }

  /** The upstream of an endpoint (made on first use, made again when its connect timeout changed). */
  get(url: string, unit: string, instance: number, connectMs: number): Upstream {
    const current = this.live.get(url)
    if (current !== undefined && current.connectMs === connectMs && current.unit === unit) return current
    if (current !== undefined) this.retire(current)
    const made = new Upstream(url, unit, instance, connectMs)
    this.live.set(url, made)
    return made
  }

  /** Requests in flight to `url` (0 when it has no upstream). */
  inFlightAt(url: string): number {
    return this.live.get(url)?.inFlight ?? 0
  }

  enter(upstream: Upstream): void {
    upstream.inFlight++
  }

  leave(upstream: Upstream): void {
    upstream.inFlight--
    if (upstream.inFlight > 0) return
    if (upstream.retired) this.closeRetired(upstream)
    const k = key(upstream.unit, upstream.instance)
    const waiting = this.drains.get(k)
    if (waiting !== undefined && this.inFlight(upstream.unit, upstream.instance) === 0) {
      this.drains.delete(k)
      for (const resolve of waiting) resolve()
    }
  }

  /** Requests in flight to instance `instance` of `unit`, through any of its pools. */
  inFlight(unit: string, instance: number): number {
    let n = 0
    for (const u of this.live.values()) if (u.unit === unit && u.instance === instance) n += u.inFlight
    for (const u of this.retiring) if (u.unit === unit && u.instance === instance) n += u.inFlight
    return n
  }

  /** Resolves once nothing is in flight to that instance (at once when nothing is). */
  drain(unit: string, instance: number): Promise<void> {
    if (this.inFlight(unit, instance) === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const k = key(unit, instance)
      const waiting = this.drains.get(k) ?? []
      waiting.push(resolve)
      this.drains.set(k, waiting)
    })
  }

  /** Keep the upstreams of `urls`; the others retire (closed once idle). */
  retain(urls: ReadonlySet<string>): void {
    for (const [url, upstream] of this.live) if (!urls.has(url)) this.retire(upstream)
  }

  private retire(upstream: Upstream): void {
    if (this.live.get(upstream.url) === upstream) this.live.delete(upstream.url)
    upstream.retired = true
    if (upstream.inFlight === 0) this.closeRetired(upstream)
    else this.retiring.add(upstream)
  }

  private closeRetired(upstream: Upstream): void {
    this.retiring.delete(upstream)
    upstream.pool
      .close()
      .catch((error: unknown) => this.report(`closing the pool of ${upstream.url} failed: ${String(error)}`))
  }

  /** Destroy every pool (requests still in flight are aborted); drains resolve. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const all = [...this.live.values(), ...this.retiring]
    this.live.clear()
    this.retiring.clear()
    await Promise.all(
      all.map((u) =>
        u.pool
          .destroy()
          .catch((error: unknown) => this.report(`closing the pool of ${u.url} failed: ${String(error)}`)),
      ),
    )
    for (const waiting of this.drains.values()) for (const resolve of waiting) resolve()
    this.drains.clear()
  }
}
