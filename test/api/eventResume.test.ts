// Resuming GET /api/events with Last-Event-ID across a SAM restart: each run's event ids start
// above every earlier run's, so an id from before the restart always asks for a fresh snapshot,
// even when the new run has already published more events than the old one had.
import { describe, expect, it } from "vitest"
import { replayAfter } from "../../src/api/eventStream.ts"
import { EventBus, runEventIdBase } from "../../src/runtime/eventBus.ts"

const publishMany = (bus: EventBus, n: number) => {
  for (let i = 0; i < n; i++) bus.publish({ type: "custom.tick", n: i } as never)
}

describe("event ids across SAM runs", () => {
  it("an id from the run before gets a snapshot, not the new run's later events", () => {
    const before = new EventBus(1000, runEventIdBase(1_800_000_000_000))
    publishMany(before, 50)
    const lastSeen = String(before.since(0).at(-1)?.id)
    // One millisecond later is enough for fewer than 100 events per millisecond.
    const after = new EventBus(1000, runEventIdBase(1_800_000_000_001))
    publishMany(after, 500)
    expect(replayAfter(after, lastSeen)).toBeUndefined()
    // Within one run, resuming replays what was missed.
    const mid = String(after.since(0)[200]?.id)
    expect(replayAfter(after, mid)).toHaveLength(299)
    // The ids stay inside what Last-Event-ID accepts (15 digits) for centuries.
    expect(String(runEventIdBase(Date.UTC(2286, 0, 1)))).toMatch(/^\d{15}$/)
  })
})
