// The pure half of alerting: how a condition becomes pending, firing and resolved (de-duplicated
// by rule and unit), what each kind of rule sees in unit statuses, and the Alertmanager body.
import { describe, expect, it } from "vitest"
import { alertmanagerPayload, fingerprint, zeroTime } from "../../src/metrics/alerts/alertmanager.ts"
import { alertRule } from "../../src/metrics/alerts/alertRule.ts"
import { advance, type TrackedAlert } from "../../src/metrics/alerts/alertState.ts"
import { type AlertFacts, conditionsOf } from "../../src/metrics/alerts/conditions.ts"
import { UnitIncidents } from "../../src/metrics/unitIncidents.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import type { UnitStatus } from "../../src/runtime/sam.ts"

const rule = alertRule("api-down", { when: "unit_unready", for_seconds: 30, severity: "warning" })
const holding = (unit = "api") => [
  { rule, condition: { unit, value: 1, description: `${unit} is not ready` } },
]

describe("an alert's life", () => {
  it("is pending until the condition has held for `for`, then fires once", () => {
    let step = advance(new Map(), holding(), 0)
    expect([...step.next.values()].map((a) => a.state)).toEqual(["pending"])
    expect(step.fired).toEqual([])
    step = advance(step.next, holding(), 29_999)
    expect(step.fired).toEqual([])
    step = advance(step.next, holding(), 30_000)
    expect(step.fired.map((a) => [a.rule.name, a.unit, a.activeSince, a.firedAt])).toEqual([
      ["api-down", "api", 0, 30_000],
    ])
    // Still holding: no second notification (de-duplicated).
    step = advance(step.next, holding(), 60_000)
    expect(step.fired).toEqual([])
    expect([...step.next.values()].map((a) => a.state)).toEqual(["firing"])
    step = advance(step.next, [], 61_000)
    expect(step.resolved.map((a) => [a.unit, a.firedAt, a.resolvedAt])).toEqual([["api", 30_000, 61_000]])
    expect(step.next.size).toBe(0)
  })

  it("drops a pending alert silently when the condition ends before `for`", () => {
    const pending = advance(new Map(), holding(), 0)
    const after = advance(pending.next, [], 10_000)
    expect([after.fired, after.resolved, after.next.size]).toEqual([[], [], 0])
  })

  it("tracks each unit of a rule apart", () => {
    const zero = alertRule("crashes", { when: "crash_loop", severity: "critical" })
    const step = advance(
      new Map<string, TrackedAlert>(),
      ["a", "b"].map((unit) => ({ rule: zero, condition: { unit, value: 3, description: unit } })),
      5,
    )
    expect(step.fired.map((a) => a.unit)).toEqual(["a", "b"])
  })
})

const instance = (state: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
  unit: "api",
  instance: 0,
  state,
  ready,
  reason: "because",
  restarts: 0,
  nextAttemptAt: undefined,
  lastUsage: undefined,
  ...extra,
})
const unit = (state: string, ready: boolean, extra: Record<string, unknown> = {}) =>
  ({
    id: "api",
    kind: "service",
    state,
    ready,
    restarts: 0,
    instances: [instance(state, ready, extra)],
  }) as unknown as UnitStatus

const facts = (units: UnitStatus[], over: Partial<AlertFacts> = {}): AlertFacts => ({
  now: 100_000,
  units,
  restartsSince: () => 0,
  crashLoopSince: () => undefined,
  openBreakers: [],
  eventLoopLagMs: 0,
  ...over,
})

describe("what rules see", () => {
  it("unit_unready: a unit meant to be up and not ready; never one an operator stopped or suspended", () => {
    expect(conditionsOf(rule, facts([unit("running", false)])).map((c) => c.description)).toEqual([
      "api is not ready (running.unready): because",
    ])
    for (const state of ["stopped", "stopping", "suspended"])
      expect(conditionsOf(rule, facts([unit(state, false)])), state).toEqual([])
    expect(conditionsOf(rule, facts([unit("running", true)]))).toEqual([])
    expect(conditionsOf(rule, facts([unit("crashed", false)]))).toHaveLength(1)
    // A crash-looping unit's retry, ready for a moment before it dies again, does not resolve it.
    const looping = facts([unit("running", true)], { crashLoopSince: () => 90_000 })
    expect(conditionsOf(rule, looping).map((c) => c.description)).toEqual([
      "api is not ready (crash-looping): up for moments between crashes",
    ])
    const other = alertRule("db-down", { when: "unit_unready", units: ["db"], severity: "info" })
    expect(conditionsOf(other, facts([unit("running", false)]))).toEqual([])
  })

  it("memory_above, restart_rate, breaker_open and sam_event_loop_lag compare with their thresholds", () => {
    const memory = alertRule("fat", { when: "memory_above", threshold: 1_000_000, severity: "warning" })
    const big = unit("running", true, {
      lastUsage: { rssBytes: 2_000_000, cpuSeconds: 1, cpuPercent: 1, at: 1 },
    })
    expect(conditionsOf(memory, facts([big])).map((c) => c.value)).toEqual([2_000_000])
    const rate = alertRule("flappy", {
      when: "restart_rate",
      threshold: 3,
      window_seconds: 60,
      severity: "warning",
    })
    const since: number[] = []
    const counting = facts([unit("running", true)], {
      restartsSince: (_u, t) => {
        since.push(t)
        return 3
      },
    })
    expect(conditionsOf(rate, counting).map((c) => c.description)).toEqual([
      "api restarted 3 times in the last 60 s (threshold 3)",
    ])
    expect(since).toEqual([40_000])
    const breaker = alertRule("tripped", { when: "breaker_open", severity: "critical" })
    expect(conditionsOf(breaker, facts([], { openBreakers: ["api"] })).map((c) => c.unit)).toEqual(["api"])
    const lag = alertRule("slow", { when: "sam_event_loop_lag", severity: "warning" })
    expect(conditionsOf(lag, facts([], { eventLoopLagMs: 499 }))).toEqual([])
    expect(conditionsOf(lag, facts([], { eventLoopLagMs: 501 }))[0]?.unit).toBeUndefined()
  })

  it("a crash loop lasts until the instance has been ready for the stable period (or is stopped)", () => {
    const incidents = new UnitIncidents({ stableMs: 10_000 })
    let id = 0
    const to = (state: string, at: number, from = "starting") =>
      incidents.observe({
        type: "transition",
        unit: "api",
        instance: 0,
        from,
        to: state,
        reason: "",
        id: ++id,
        at: new Date(at).toISOString(),
      } as SamEvent)
    to("crashed", 1_000, "error")
    to("running.ready", 2_000)
    expect(incidents.crashLoopSince("api", 5_000)).toBe(1_000)
    to("error", 6_000, "running.ready")
    to("crashed", 7_000, "error")
    expect(incidents.crashLoopSince("api", 8_000)).toBe(1_000)
    to("running.ready", 9_000)
    expect(incidents.crashLoopSince("api", 19_000)).toBeUndefined()
    to("crashed", 30_000, "error")
    to("stopped", 31_000, "crashed")
    expect(incidents.crashLoopSince("api", 32_000)).toBeUndefined()
    // restart_rate's count: restarts after a failure (from backoff, crashed, error), not those
    // asked for (an operator's restart: from running or stopping), which the metric still counts.
    const reasons: string[] = []
    incidents.subscribe({ restart: (r) => reasons.push(r.reason) })
    to("starting", 40_000, "stopping")
    to("starting", 41_000, "running.ready")
    to("starting", 42_000, "backoff")
    expect(incidents.restartsSince("api", 39_000)).toBe(1)
    expect(reasons).toEqual(["requested", "requested", "exit"])
  })
})

describe("failures counted (sam_crashes_total)", () => {
  it("a clean exit (code 0) is no failure; a non-zero code, a signal or a kill for a limit is", () => {
    const incidents = new UnitIncidents()
    const seen: string[] = []
    incidents.subscribe({ failure: (f) => void seen.push(`${f.unit}:${f.failure}`) })
    const failed = (unit: string, fields: Record<string, unknown>) =>
      incidents.observe({
        type: "instance.failed",
        unit,
        instance: 0,
        id: 1,
        at: new Date(0).toISOString(),
        ...fields,
      } as SamEvent)
    failed("done", { failure: "exit", exit_code: 0, signal: null })
    failed("bad", { failure: "exit", exit_code: 3, signal: null })
    failed("killed", { failure: "exit", exit_code: null, signal: "SIGKILL" })
    failed("leaky", { failure: "memory", exit_code: null, signal: "SIGKILL" })
    expect(seen).toEqual(["bad:exit", "killed:exit", "leaky:memory"])
  })
})

describe("the Alertmanager webhook body", () => {
  it("has version 4, the status, labels with alertname and unit, and endsAt only when resolved", () => {
    const [alert] = advance(new Map(), holding(), 0).next.values()
    const firing = alertmanagerPayload(
      alert!,
      "firing",
      { startsAt: 0, endsAt: undefined },
      "http://127.0.0.1:7070",
    )
    expect(firing).toMatchObject({ version: "4", status: "firing", groupLabels: { alertname: "api-down" } })
    expect(firing.alerts[0]).toMatchObject({
      status: "firing",
      labels: { alertname: "api-down", when: "unit_unready", severity: "warning", unit: "api" },
      annotations: { summary: "api is not ready", description: "api is not ready", value: "1" },
      startsAt: "1970-01-01T00:00:00.000Z",
      endsAt: zeroTime,
      generatorURL: "http://127.0.0.1:7070/api/alerts",
    })
    const resolved = alertmanagerPayload(alert!, "resolved", { startsAt: 0, endsAt: 5_000 }, "http://x")
    expect(resolved.alerts[0]?.endsAt).toBe("1970-01-01T00:00:05.000Z")
    expect(fingerprint({ b: "2", a: "1" })).toBe(fingerprint({ a: "1", b: "2" }))
    expect(fingerprint({ a: "1" })).not.toBe(fingerprint({ a: "2" }))
  })
})
