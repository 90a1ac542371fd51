// `sam events` lines: an instance is named as `sam ps` and `sam logs` name it (web; web#0, web#1).
import { describe, expect, it } from "vitest"
import { formatEvent } from "../../src/cli/eventsCommand.ts"

const at = "2026-12-03T10:11:12.000Z"

describe("sam events lines", () => {
  it("name the instance of a transition and of a health change", () => {
    const transition = { unit: "web", from: "starting", to: "running.ready", reason: "ok", pid: 7, at }
    expect(formatEvent({ id: "1", event: "transition", data: { ...transition, instance: 0 } })).toBe(
      "10:11:12 web starting → running.ready (pid 7): ok",
    )
    expect(formatEvent({ id: "1", event: "transition", data: { ...transition, instance: 2 } })).toBe(
      "10:11:12 web#2 starting → running.ready (pid 7): ok",
    )
    const health = { unit: "web", ok: false, probe: "http", detail: "HTTP 503", at }
    expect(formatEvent({ id: "1", event: "health", data: { ...health, instance: 0 } })).toBe(
      "10:11:12 web health failing (http): HTTP 503",
    )
    expect(formatEvent({ id: "1", event: "health", data: { ...health, instance: 1 } })).toBe(
      "10:11:12 web#1 health failing (http): HTTP 503",
    )
  })
})

describe("sam events lines of a unit that may run several instances", () => {
  it("name its instance 0 web#0, as its `sam ps` row does", () => {
    const transition = { unit: "web", instance: 0, from: "starting", to: "running.ready", reason: "ok", at }
    expect(formatEvent({ id: "1", event: "transition", data: transition }, new Set(["web"]))).toBe(
      "10:11:12 web#0 starting → running.ready: ok",
    )
    expect(
      formatEvent({ id: "1", event: "transition", data: { ...transition, unit: "db" } }, new Set(["web"])),
    ).toBe("10:11:12 db starting → running.ready: ok")
  })
})

describe("sam events lines of a config reload", () => {
  it("say a reload in words, and a refused one with each problem on a line of its own", () => {
    const reloaded = formatEvent({
      id: "1",
      event: "config.reloaded",
      data: { at, changed: true, added: ["extra"], removed: [], changedUnits: [], restartNeeded: [] },
    })
    expect(reloaded).toMatch(/^10:11:12 config reloaded: .*extra/)
    const invalid = formatEvent({
      id: "2",
      event: "config.invalid",
      data: {
        at,
        message: "config reload rejected, still running the previous config:\nsam.yaml:15:31 services.x: bad",
      },
    })
    expect(invalid).toBe(
      "10:11:12 config reload rejected, still running the previous config:\n  sam.yaml:15:31 services.x: bad",
    )
  })
})

describe("sam events and a unit's control characters", () => {
  it("shows them escaped, as sam logs does: a reason cannot retitle or clear the terminal", () => {
    const crash = {
      at,
      unit: "web",
      instance: 0,
      crash_id: 7,
      reason: "exited with code 1: \x1b]0;PWN\x07\x1b[2J",
    }
    expect(formatEvent({ id: "1", event: "crash.reported", data: crash })).toBe(
      "10:11:12 web failed, crash report 7: exited with code 1: \\x1b]0;PWN\\x07\\x1b[2J (`sam crashes show 7`)",
    )
  })
})

describe("sam events lines of a crash report and an alert", () => {
  it("say what crashed and where its report is, and which alert fired or resolved", () => {
    const crash = { at, unit: "web", instance: 1, crash_id: 49, reason: "exited with code 3" }
    expect(formatEvent({ id: "1", event: "crash.reported", data: crash })).toBe(
      "10:11:12 web#1 failed, crash report 49: exited with code 3 (`sam crashes show 49`)",
    )
    const alert = { at, rule: "api-down", severity: "warning", summary: "api is not ready (backoff)" }
    expect(formatEvent({ id: "2", event: "alert.firing", data: alert })).toBe(
      "10:11:12 alert api-down firing (warning): api is not ready (backoff)",
    )
    expect(formatEvent({ id: "3", event: "alert.resolved", data: alert })).toBe(
      "10:11:12 alert api-down resolved (warning): api is not ready (backoff)",
    )
  })
})
