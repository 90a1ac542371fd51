// The per-unit history's request rate now (what the event stream's `usage` samples carry for the
// services the gateway routes): requests over the last interval, whole seconds, per unit.
import { describe, expect, it } from "vitest"
import { UnitHistory } from "../../src/metrics/unitHistory.ts"

describe("a unit's request rate now", () => {
  it("counts the requests of the last interval (5 s) per second, and forgets older ones", () => {
    const history = new UnitHistory({ intervalMs: 5_000 })
    const t = Date.parse("2026-12-01T10:00:00.000Z")
    expect(history.requestRate("web", t)).toBe(0)
    for (let i = 0; i < 10; i++) history.countRequest("web", t + i * 100)
    history.countRequest("api", t)
    expect(history.requestRate("web", t + 1_000)).toBe(2)
    expect(history.requestRate("api", t + 1_000)).toBe(0.2)
    for (let i = 0; i < 5; i++) history.countRequest("web", t + 3_000)
    expect(history.requestRate("web", t + 4_999)).toBe(3)
    // Five seconds on, the first ten are out of the window; ten on, nothing is left.
    expect(history.requestRate("web", t + 5_000)).toBe(1)
    expect(history.requestRate("web", t + 10_000)).toBe(0)
  })
})
