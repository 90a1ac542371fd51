// `sam start`'s progress lines: who (an instance by the name `sam ps` gives it) and what is news.
import { describe, expect, it } from "vitest"
import { progressLine } from "../../src/app/progressLines.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"

const at = "2026-12-04T10:11:12.000Z"
const transition = (fields: { from: string; to: string; reason: string; instance?: number }): SamEvent => ({
  type: "transition",
  unit: "web",
  instance: 0,
  id: 1,
  at,
  ...fields,
})
const line = (event: SamEvent, name?: (unit: string, instance: number) => string) =>
  progressLine(event, new Map(), false, () => true, name)

describe("sam start's progress lines", () => {
  it("name an instance as `sam ps` does: web for a unit of one, web#0 for one that may run several", () => {
    const starting = transition({ from: "stopped", to: "starting", reason: "start" })
    expect(line(starting)).toBe("   … web starting")
    expect(line(starting, (unit, i) => `${unit}#${i}`)).toBe("   … web#0 starting")
  })

  it("say a stop as SAM exits, but not of a unit it had given up on (it was down already)", () => {
    expect(line(transition({ from: "running.ready", to: "stopped", reason: "SAM is stopping" }))).toBe(
      "   ■ web stopped",
    )
    expect(line(transition({ from: "crashed", to: "stopped", reason: "SAM is stopping" }))).toBeUndefined()
    // An operator's stop of a crashed unit is told: it answers the command.
    expect(line(transition({ from: "crashed", to: "stopped", reason: "stop" }))).toBe("   ■ web stopped")
  })
})
