// How the dashboard's state follows SAM's events: snapshot, transitions (pid and readiness at
// once), usage samples and the metrics history into sparklines, alerts, the timeline newest first.
import { describe, expect, it } from "vitest"
import { asAlert, firingAlerts } from "../../src/dashboard/ui/live.ts"
import { logText } from "../../src/dashboard/ui/logText.ts"
import { headerCounts } from "../../src/dashboard/ui/states.ts"
import {
  applyHistory,
  applySnapshot,
  applyTransition,
  applyUsage,
  initialState,
  sparkWindowMs,
  timelineEntry,
} from "../../src/dashboard/ui/store.ts"

const service = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  status: "running",
  ready: true,
  instances: 1,
  restarts: 0,
  pid: 100,
  uptime: 5,
  reason: "ready",
  depends_on: [],
  ...extra,
})

const snapshot = {
  services: [service("db"), service("web", { depends_on: ["db"] })],
  agents: [{ ...service("helper"), capabilities: ["echo"] }],
  recent: [
    {
      id: 1,
      type: "transition",
      unit: "db",
      instance: 0,
      from: "starting",
      to: "running.ready",
      reason: "ready",
      at: "2026-12-01T10:00:00.000Z",
    },
    { id: 2, type: "usage-like-noise", at: "2026-12-01T10:00:01.000Z" },
  ],
}

describe("the dashboard's state", () => {
  it("takes every unit and the recent events from a snapshot", () => {
    const state = applySnapshot(initialState, snapshot, 1000)
    expect([...state.units.keys()]).toEqual(["db", "web", "helper"])
    expect(state.units.get("helper")?.kind).toBe("agent")
    expect(state.connection).toBe("live")
    expect(state.timeline.map((e) => e.text)).toEqual(["db starting → running.ready: ready"])
    expect(state.selected).toBe("db")
  })

  it("moves a unit on its transition at once: state, readiness, pid", () => {
    let state = applySnapshot(initialState, snapshot, 1000)
    state = applyTransition(state, {
      type: "transition",
      unit: "db",
      instance: 0,
      from: "running.ready",
      to: "stopped",
      reason: "killed",
      id: 3,
      at: "x",
    })
    expect(state.units.get("db")).toMatchObject({
      status: "stopped",
      ready: false,
      pid: null,
      reason: "killed",
    })
    state = applyTransition(state, {
      type: "transition",
      unit: "db",
      instance: 0,
      from: "starting",
      to: "running.unready",
      reason: "spawned",
      pid: 222,
      id: 4,
      at: "y",
    })
    expect(state.units.get("db")).toMatchObject({ status: "running", ready: false, pid: 222 })
    expect(state.timeline[0]?.text).toBe("db starting → running.unready: spawned")
  })

  it("keeps the last five minutes of CPU and memory per unit, by the samples' time", () => {
    let state = applySnapshot(initialState, snapshot, 1000)
    const start = Date.parse("2026-12-01T10:00:00.000Z")
    const at = (s: number) => new Date(start + s * 1000).toISOString()
    // Six minutes of samples 2 s apart.
    for (let i = 0; i <= 180; i++)
      state = applyUsage(state, {
        at: at(2 * i),
        units: [{ id: "db", cpu_percent: i, memory_bytes: 1000 + i }],
      })
    const cpu = state.usage.get("db")?.cpu ?? []
    expect(cpu[0]?.[0]).toBe(start + 60_000)
    expect(cpu.at(-1)).toEqual([start + 360_000, 180])
    expect(cpu).toHaveLength(sparkWindowMs / 2000 + 1)
    expect(state.units.get("db")?.memory_bytes).toBe(1180)
  })

  it("starts the sparklines from the metrics history, then the live samples after it", () => {
    const start = Date.parse("2026-12-01T10:00:00.000Z")
    let state = applySnapshot(initialState, snapshot, 1000)
    state = applyUsage(state, {
      at: new Date(start + 9_000).toISOString(),
      units: [{ id: "db", cpu_percent: 9, memory_bytes: 9 }],
    })
    state = applyUsage(state, {
      at: new Date(start + 11_000).toISOString(),
      units: [{ id: "db", cpu_percent: 11, memory_bytes: 11 }],
    })
    const history = [0, 5, 10].map((s) => [start + s * 1000, s] as const)
    state = applyHistory(state, "db", history, history)
    expect(state.usage.get("db")?.cpu.map(([, v]) => v)).toEqual([0, 5, 10, 11])
  })

  it("draws a routed service's gateway requests per second from its history, then from the live samples", () => {
    const start = Date.parse("2026-12-01T10:00:00.000Z")
    let state = applySnapshot(initialState, snapshot, 1000)
    const history = [0, 5, 10].map((s) => [start + s * 1000, s / 5] as const)
    state = applyHistory(state, "web", history, history, history)
    // A sample carries requests_per_second for the services the gateway routes only.
    state = applyUsage(state, {
      at: new Date(start + 12_000).toISOString(),
      units: [
        { id: "web", cpu_percent: 1, memory_bytes: 2, requests_per_second: 7.5 },
        { id: "db", cpu_percent: 1, memory_bytes: 2 },
      ],
    })
    expect(state.usage.get("web")?.requests.map(([, v]) => v)).toEqual([0, 1, 2, 7.5])
    expect(state.usage.get("db")?.requests).toEqual([])
    // Nothing running (no CPU or memory figure): its requests still go on, the gateway answers them.
    state = applyUsage(state, {
      at: new Date(start + 14_000).toISOString(),
      units: [{ id: "web", cpu_percent: null, memory_bytes: null, requests_per_second: 3 }],
    })
    expect(state.usage.get("web")?.requests.at(-1)).toEqual([start + 14_000, 3])
    expect(state.usage.get("web")?.cpu).toHaveLength(4)
  })

  it("moves only the instance's row of a unit of several on its transition; the unit's view follows", () => {
    const instance = (n: number, pid: number) => ({
      instance: n,
      status: "running",
      ready: true,
      pid,
      port: 4000 + n,
      restarts: 0,
      uptime: 10,
      reason: "ready",
      next_attempt_at: null,
    })
    let state = applySnapshot(
      initialState,
      {
        services: [
          service("web", { instances: 2, pid: 100, per_instance: [instance(0, 100), instance(1, 101)] }),
        ],
      },
      1000,
    )
    state = applyTransition(state, {
      type: "transition",
      unit: "web#0",
      instance: 0,
      from: "running.ready",
      to: "backoff",
      reason: "exited by signal SIGKILL",
      id: 5,
      at: "z",
    })
    const web = state.units.get("web")
    expect(web).toMatchObject({ status: "running", ready: true })
    expect(web?.per_instance[0]).toMatchObject({ status: "backoff", ready: false, pid: null, uptime: 0 })
    expect(web?.per_instance[1]).toMatchObject({ status: "running", ready: true, pid: 101 })
  })

  it("reads firing alerts from GET /api/alerts and from alert.firing events alike", () => {
    const listed = firingAlerts({
      active: [
        {
          id: 3,
          rule: "db-down",
          unit: "db",
          state: "firing",
          started_at: "2026-12-01T10:00:00.000Z",
          ended_at: null,
          labels: { alertname: "db-down", severity: "critical", unit: "db", when: "unit_unready" },
          annotations: { summary: "db is not ready", description: "", value: "0" },
        },
        {
          id: null,
          rule: "slow",
          unit: "api",
          state: "pending",
          started_at: "x",
          labels: {},
          annotations: {},
        },
      ],
    })
    expect(listed).toEqual([
      {
        key: "db-down:db",
        name: "db-down",
        unit: "db",
        severity: "critical",
        detail: "db is not ready",
        since: "2026-12-01T10:00:00.000Z",
      },
    ])
    const fromEvent = asAlert({
      type: "alert.firing",
      rule: "db-down",
      unit: "db",
      severity: "critical",
      summary: "db is not ready",
      starts_at: "2026-12-01T10:00:00.000Z",
    })
    expect(fromEvent).toEqual(listed[0])
  })

  it("names the instance and the supervisor's decisions in the timeline", () => {
    expect(
      timelineEntry({
        type: "transition",
        unit: "api",
        instance: 2,
        from: "a",
        to: "b",
        reason: "",
        id: 1,
        at: "t",
      })?.text,
    ).toBe("api#2 a → b")
    // A unit that may run several: its instance 0 is api#0, as `sam ps` lists it; one of one is api.
    const zero = {
      type: "transition",
      unit: "api",
      instance: 0,
      from: "a",
      to: "b",
      reason: "",
      id: 1,
      at: "t",
    }
    expect(timelineEntry(zero, (unit) => unit === "api")?.text).toBe("api#0 a → b")
    expect(timelineEntry(zero)?.text).toBe("api a → b")
    expect(
      timelineEntry({
        type: "supervisor",
        unit: "api#1",
        action: "restart",
        detail: "exited (one_for_one)",
        id: 2,
        at: "t",
      }),
    ).toMatchObject({ unit: "api", text: "restart: exited (one_for_one)" })
  })

  it("words an alert firing and resolving as `sam start` does, with its rule, severity and summary", () => {
    const alert = {
      rule: "flaky-down",
      unit: "flaky",
      severity: "critical",
      when: "unit_unready",
      id: 4,
      at: "t",
    }
    expect(
      timelineEntry({ ...alert, type: "alert.firing", summary: "flaky is not ready (backoff)" }),
    ).toMatchObject({
      unit: "flaky",
      text: "alert flaky-down firing (critical): flaky is not ready (backoff)",
    })
    expect(
      timelineEntry({ ...alert, type: "alert.resolved", summary: "flaky is not ready (backoff)" })?.text,
    ).toBe("alert flaky-down resolved")
  })

  it("says what a config reload changed, and what waits for a restart of SAM", () => {
    const reload = (fields: Record<string, unknown>) =>
      timelineEntry({ type: "config.reloaded", id: 3, at: "t", added: [], removed: [], ...fields })?.text
    expect(
      reload({ restarted: ["web"], settings: ["security.api_tokens"], restartNeeded: ["api.port"] }),
    ).toBe("config reloaded: restarted web; settings security.api_tokens; needs a restart of SAM: api.port")
    expect(reload({})).toBe("config reloaded: nothing changed")
  })
})

describe("the header's counts", () => {
  it("count a unit in backoff as failing (a crash loop), one starting or not ready as settling", () => {
    const u = (status: string, ready = false) => ({ status, ready, per_instance: [{ status, ready }] })
    expect(
      headerCounts([
        u("running", true),
        u("running"),
        u("starting"),
        u("backoff"),
        u("crashed"),
        u("error"),
        u("stopped"),
        u("suspended"),
      ]),
    ).toEqual({ ready: 1, running: 0, degraded: 0, settling: 2, failing: 3, stopped: 2 })
  })

  it("count a unit up with no readiness check as running, not ready: nothing was checked", () => {
    const worker = {
      status: "running",
      ready: true,
      readiness_checked: false,
      per_instance: [{ status: "running", ready: true }],
    }
    const web = { ...worker, readiness_checked: true }
    expect(headerCounts([worker, web])).toMatchObject({ ready: 1, running: 1 })
  })

  it("count a unit that serves while one of its instances is down as degraded, not failing", () => {
    const instance = (status: string, ready: boolean) => ({ status, ready })
    const web = {
      status: "backoff",
      ready: true,
      per_instance: [instance("backoff", false), instance("running", true)],
    }
    const allDown = {
      status: "backoff",
      ready: false,
      per_instance: [instance("backoff", false), instance("crashed", false)],
    }
    expect(headerCounts([web, allDown])).toEqual({
      ready: 0,
      running: 0,
      degraded: 1,
      settling: 0,
      failing: 1,
      stopped: 0,
    })
  })
})

describe("a log line on the page", () => {
  it("loses its colours and shows other control characters escaped, as sam logs shows them", () => {
    expect(logText("\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[m")).toBe("red and bold green")
    expect(logText("clear\x1b[2J bell\x07 tab\tkept")).toBe("clear\\x1b[2J bell\\x07 tab\tkept")
  })
})
