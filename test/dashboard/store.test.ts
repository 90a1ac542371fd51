// How the dashboard's state follows SAM's events: snapshot, transitions (pid and readiness at
// once), usage samples into bounded sparklines, the timeline newest first.
import { describe, expect, it } from "vitest"
import {
  applySnapshot,
  applyTransition,
  applyUsage,
  initialState,
  sparkLength,
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

  it("keeps the last samples of CPU and memory per unit", () => {
    let state = applySnapshot(initialState, snapshot, 1000)
    for (let i = 0; i < sparkLength + 5; i++)
      state = applyUsage(state, { units: [{ id: "db", cpu_percent: i, memory_bytes: 1000 + i }] })
    expect(state.usage.get("db")?.cpu).toHaveLength(sparkLength)
    expect(state.usage.get("db")?.cpu.at(-1)).toBe(sparkLength + 4)
    expect(state.units.get("db")?.memory_bytes).toBe(1000 + sparkLength + 4)
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
})
