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

/** What surfaces show of a breaker (the API's `gateway.breaker`, `sam ps`, the dashboard). */
export interface BreakerView {
  readonly state: "closed" | "open" | "half_open"
  /** When it entered this state (epoch ms; for a closed one never opened, when the gateway made it). */
  readonly since: number
  /** Why it last opened (open and half-open only). */
  readonly reason: string | undefined
  /** Open: when it lets probe calls through (half-open). */
  readonly until: number | undefined
}

export class CircuitBreaker {
  /** Mirrors the machine's state, read on every request. */
  state: BreakerState = "closed"
  private readonly settings: BreakerSettings
  private readonly window: SlidingWindow
  private readonly actor: Actor<typeof breakerMachine>
  private probesInFlight = 0
  private openedAt = 0
  private since = Date.now()
  private reason = ""
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
      this.since = Date.now()
      this.reason = snapshot.context.reason
      if (next === "open") this.openedAt = this.since
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

  /** Its state now, for surfaces; undefined when the breaker is disabled (breaker.enabled false). */
  view(): BreakerView | undefined {
    if (!this.settings.enabled) return undefined
    const open = this.state === "open"
    return {
      state: this.state === "halfOpen" ? "half_open" : this.state,
      since: this.since,
      reason: this.state === "closed" ? undefined : this.reason,
      until: open ? this.openedAt + this.settings.openMs : undefined,
    }
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
    const failedCalls = this.window.sum(now, FAILURES)
    const slowCalls = this.window.sum(now, SLOW)
    const within = `in ${Math.round(this.settings.windowMs / 100) / 10} s`
    if ((failedCalls / calls) * 100 >= this.settings.failurePercent)
      this.actor.send({
        type: "TRIP",
        reason: `${failedCalls} of ${calls} calls failed ${within} (breaker.failure_percent ${this.settings.failurePercent})`,
      })
    else if (this.settings.slowCallMs > 0 && (slowCalls / calls) * 100 >= this.settings.slowCallPercent)
      this.actor.send({
        type: "TRIP",
        reason: `${slowCalls} of ${calls} calls took over ${this.settings.slowCallMs} ms ${within} (breaker.slow_call_percent ${this.settings.slowCallPercent})`,
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
