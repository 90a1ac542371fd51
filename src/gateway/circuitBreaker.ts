// A service's circuit breaker on the hot path: calls are counted in a sliding window (plain
// counters), and only state changes go to the XState machine (src/actors/breaker.machine.ts).
// allow() says whether a call may go (half-open lets halfOpenRequests probes through at once).
import { type Actor, createActor } from "xstate"
import { type BreakerState, breakerMachine } from "../actors/breaker.machine.ts"
import type { GatewaySpec } from "../runtime/gatewaySpec.ts"
import { SlidingWindow } from "./slidingWindow.ts"

const CALLS = 0
const FAILURES = 1
const SLOW = 2

export type BreakerSettings = GatewaySpec["breaker"]

/** A ticket for one call: `probe` when it was let through half-open. */
export type BreakerTicket = "call" | "probe"

export class CircuitBreaker {
  /** Mirrors the machine's state, read on every request. */
  state: BreakerState = "closed"
  private readonly settings: BreakerSettings
  private readonly window: SlidingWindow
  private readonly actor: Actor<typeof breakerMachine>
  private probesInFlight = 0
  private openedAt = 0
  private readonly onChange: (state: BreakerState, reason: string) => void

  constructor(settings: BreakerSettings, onChange: (state: BreakerState, reason: string) => void = () => {}) {
    this.settings = settings
    this.onChange = onChange
    this.window = new SlidingWindow(settings.windowMs, 3)
    this.actor = createActor(breakerMachine, {
      input: { openMs: settings.openMs, halfOpenRequests: settings.halfOpenRequests },
    })
    this.actor.subscribe((snapshot) => {
      const next = snapshot.value as BreakerState
      if (next === this.state) return
      this.state = next
      this.probesInFlight = 0
      if (next === "open") this.openedAt = Date.now()
      if (next === "closed") this.window.reset()
      this.onChange(next, snapshot.context.reason)
    })
    this.actor.start()
  }

  /** A ticket for a call, or undefined when the breaker refuses it. */
  allow(): BreakerTicket | undefined {
    if (this.state === "closed" || !this.settings.enabled) return "call"
    if (this.state === "open") return undefined
    if (this.probesInFlight >= this.settings.halfOpenRequests) return undefined
    this.probesInFlight++
    return "probe"
  }

  /** Seconds until an open breaker lets probes through. */
  retryAfterSeconds(now: number): number {
    return Math.max(1, Math.ceil((this.openedAt + this.settings.openMs - now) / 1000))
  }

  /** How a call ended: failed (5xx, no answer), and how long its headers took. */
  record(ticket: BreakerTicket, now: number, failed: boolean, ttfbMs: number): void {
    if (!this.settings.enabled) return
    const slow = this.settings.slowCallMs > 0 && ttfbMs > this.settings.slowCallMs
    if (ticket === "probe") {
      if (this.state !== "halfOpen") return
      this.probesInFlight = Math.max(0, this.probesInFlight - 1)
      if (failed || slow)
        this.actor.send({
          type: "PROBE_FAILED",
          reason: failed ? "a probe call failed" : "a probe call was slow",
        })
      else this.actor.send({ type: "PROBE_PASSED" })
      return
    }
    if (this.state !== "closed") return
    this.window.add(now, CALLS)
    if (failed) this.window.add(now, FAILURES)
    if (slow) this.window.add(now, SLOW)
    if (!failed && !slow) return
    const calls = this.window.sum(now, CALLS)
    if (calls < this.settings.minRequests) return
    const failures = (this.window.sum(now, FAILURES) / calls) * 100
    const slowShare = (this.window.sum(now, SLOW) / calls) * 100
    if (failures >= this.settings.failurePercent)
      this.actor.send({
        type: "TRIP",
        reason: `${Math.round(failures)}% of ${calls} calls failed (failure_percent ${this.settings.failurePercent})`,
      })
    else if (this.settings.slowCallMs > 0 && slowShare >= this.settings.slowCallPercent)
      this.actor.send({
        type: "TRIP",
        reason: `${Math.round(slowShare)}% of ${calls} calls took over ${this.settings.slowCallMs} ms`,
      })
  }

  /** A call that was let through but never made (shed, aborted before it left). */
  release(ticket: BreakerTicket): void {
    if (ticket === "probe") this.probesInFlight = Math.max(0, this.probesInFlight - 1)
  }

  stop(): void {
    this.actor.stop()
  }
}
