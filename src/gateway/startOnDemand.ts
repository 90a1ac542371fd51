// Start-on-demand: a service with scaling.min_instances 0 runs nothing until a request comes
// through the gateway, which scales it to 1 and holds the request until an instance is ready
// (bounded by timeouts.start_ms); after scaling.idle_seconds without a request it is scaled back
// to 0, its in-flight requests drained first. Scale commands of one service run one at a time.
import type { Sam } from "../runtime/sam.ts"

/**
 * How a wait for a ready instance ended: one is in the routing table; the start failed (the
 * service went into backoff, crashed or error after it began starting: no use holding the request
 * for the rest of start_ms); `ms` passed; or the gateway closed.
 */
export type Routable = "ready" | "failed" | "timeout" | "closed"

export interface OnDemandEnv {
  readonly sam: Pick<Sam, "scale" | "unitStatus" | "bus">
  readonly whenRoutable: (id: string, ms: number) => Promise<Routable>
  /** Requests in flight through the gateway to the service now. */
  readonly inFlight: (id: string) => number
  readonly lastActivity: (id: string) => number
  readonly drain: (unit: string, instance: number) => Promise<void>
  readonly report: (message: string) => void
}

export class StartOnDemand {
  private readonly env: OnDemandEnv
  private readonly chains = new Map<string, Promise<void>>()
  private readonly idleTimers = new Map<string, NodeJS.Timeout>()
  private closed = false

  constructor(env: OnDemandEnv) {
    this.env = env
  }

  /** Run `step` after the service's earlier scale commands. */
  private serially(id: string, step: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(id) ?? Promise.resolve()).then(step).catch((error: unknown) => {
      this.env.report(`start-on-demand of "${id}": ${error instanceof Error ? error.message : String(error)}`)
    })
    this.chains.set(id, next)
    return next
  }

  /** Start the service if it runs nothing, and wait up to `startMs` for a ready instance. */
  async ensure(id: string, startMs: number): Promise<Routable> {
    if (this.closed) return "closed"
    void this.serially(id, async () => {
      if (this.closed || this.env.sam.unitStatus(id).instances.length > 0) return
      this.env.sam.bus.publish({
        type: "gateway.on-demand",
        unit: id,
        action: "start",
        detail: `a request for "${id}" came through the gateway: starting it`,
      })
      await this.env.sam.scale(id, 1, { remember: false })
    })
    return this.env.whenRoutable(id, startMs)
  }

  /** A request for an on-demand service ended: stop it after `idleMs` if no other comes. */
  idle(id: string, idleMs: number | undefined): void {
    if (idleMs === undefined || this.closed) return
    clearTimeout(this.idleTimers.get(id))
    const timer = setTimeout(() => this.check(id, idleMs), idleMs)
    timer.unref()
    this.idleTimers.set(id, timer)
  }

  /** A request for the service began: it is not idle. */
  busy(id: string): void {
    const timer = this.idleTimers.get(id)
    if (timer === undefined) return
    clearTimeout(timer)
    this.idleTimers.delete(id)
  }

  private check(id: string, idleMs: number): void {
    this.idleTimers.delete(id)
    void this.serially(id, async () => {
      if (this.closed || this.env.inFlight(id) > 0) return
      const quietFor = Date.now() - this.env.lastActivity(id)
      if (quietFor < idleMs) {
        this.idle(id, idleMs - quietFor)
        return
      }
      const running = this.env.sam.unitStatus(id).instances.length
      if (running === 0) return
      this.env.sam.bus.publish({
        type: "gateway.on-demand",
        unit: id,
        action: "stop",
        detail: `no request for "${id}" in ${Math.round(idleMs / 1000)} s (scaling.idle_seconds): stopping it`,
      })
      await this.env.sam.scale(id, 0, { drain: this.env.drain, remember: false })
    })
  }

  close(): void {
    this.closed = true
    for (const timer of this.idleTimers.values()) clearTimeout(timer)
    this.idleTimers.clear()
  }
}
