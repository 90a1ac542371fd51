// What each kind of rule sees in SAM's state: the conditions that hold now, one per unit (or one
// for SAM itself), with the value that made it hold and a sentence for the alert's summary.
// Pure: the engine gathers the facts, this decides.
import type { UnitStatus } from "../../runtime/sam.ts"
import type { AlertRule } from "./alertRule.ts"

export interface AlertFacts {
  readonly now: number
  readonly units: ReadonlyArray<UnitStatus>
  /** Restarts of a unit at or after a time (epoch ms). */
  readonly restartsSince: (unit: string, since: number) => number
  /** Since when a unit has been crash-looping (crashed, and not ready or stopped since). */
  readonly crashLoopSince: (unit: string) => number | undefined
  /** Services whose gateway breaker is open now. */
  readonly openBreakers: ReadonlyArray<string>
  /** SAM's event-loop lag in the watchdog's last window (ms). */
  readonly eventLoopLagMs: number
}

export interface Condition {
  /** The unit it is about; undefined for SAM itself (sam_event_loop_lag). */
  readonly unit?: string
  readonly value: number
  readonly description: string
}

/**
 * States in which a unit is meant to be up. `stopped` and `stopping` are the desired state of an
 * operator's stop (or SAM's shutdown), `suspended` an operator's suspend: none of them is "unready".
 */
const meantToBeUp = new Set(["starting", "running", "backoff", "error", "crashed"])

const watched = (rule: AlertRule, units: ReadonlyArray<UnitStatus>) =>
  rule.units === undefined ? units : units.filter((u) => rule.units?.includes(u.id))

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`

export const conditionsOf = (rule: AlertRule, facts: AlertFacts): ReadonlyArray<Condition> => {
  switch (rule.when) {
    case "unit_unready":
      return watched(rule, facts.units).flatMap((u) => {
        if (u.instances.length === 0 || !meantToBeUp.has(u.state)) return []
        // A crash-looping unit whose retry is ready for a moment (no readiness check: ready at
        // once, dead 40 ms later) is not ready: the alert holds until the loop ends, or it flaps.
        if (u.ready && facts.crashLoopSince(u.id) === undefined) return []
        const unready = u.instances.find((i) => !i.ready)
        const state = u.ready ? "crash-looping" : u.state === "running" ? "running.unready" : u.state
        // Up for a moment between crashes: its reason of the moment ("no readiness check") says nothing.
        const why = unready?.reason
          ? `: ${unready.reason}`
          : u.ready
            ? ": up for moments between crashes"
            : ""
        return [
          {
            unit: u.id,
            value: Math.max(1, u.instances.filter((i) => !i.ready).length),
            description: `${u.id} is not ready (${state})${why}`,
          },
        ]
      })
    case "crash_loop":
      return watched(rule, facts.units).flatMap((u) => {
        const since = facts.crashLoopSince(u.id)
        if (since === undefined) return []
        // Between two retries the instance is starting or unready: the loop goes on until it is ready.
        const crashed = u.instances.find((i) => i.state === "crashed") ?? u.instances.find((i) => !i.ready)
        const retry =
          crashed?.state !== "crashed"
            ? `${crashed?.state ?? u.state} again, not ready yet`
            : crashed.nextAttemptAt === undefined
              ? "SAM gave up on it"
              : `next attempt at ${new Date(crashed.nextAttemptAt).toISOString()}`
        return [
          {
            unit: u.id,
            value: u.restarts,
            description: `${u.id} is crash-looping since ${new Date(since).toISOString()}, ${u.restarts} restarts (${retry}): ${crashed?.reason ?? ""}`,
          },
        ]
      })
    case "restart_rate":
      return watched(rule, facts.units).flatMap((u) => {
        const count = facts.restartsSince(u.id, facts.now - rule.windowMs)
        if (count < rule.threshold) return []
        return [
          {
            unit: u.id,
            value: count,
            description: `${u.id} restarted ${count} times in the last ${rule.windowMs / 1000} s (threshold ${rule.threshold})`,
          },
        ]
      })
    case "memory_above":
      return watched(rule, facts.units).flatMap((u) => {
        let rss = 0
        for (const i of u.instances)
          if (i.lastUsage && (i.state === "running" || i.state === "suspended")) rss += i.lastUsage.rssBytes
        if (rss <= rule.threshold) return []
        return [
          {
            unit: u.id,
            value: rss,
            description: `${u.id} uses ${mib(rss)} of memory (above ${mib(rule.threshold)})`,
          },
        ]
      })
    case "breaker_open":
      return facts.openBreakers
        .filter((service) => rule.units === undefined || rule.units.includes(service))
        .map((service) => ({
          unit: service,
          value: 1,
          description: `the gateway's circuit breaker for ${service} is open: requests to it are refused`,
        }))
    case "sam_event_loop_lag":
      return facts.eventLoopLagMs > rule.threshold
        ? [
            {
              value: facts.eventLoopLagMs,
              description: `SAM's event loop lagged ${facts.eventLoopLagMs} ms (above ${rule.threshold} ms)`,
            },
          ]
        : []
  }
}
