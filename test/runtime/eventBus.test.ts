// The event bus keeps a bounded history (a ring) for SSE clients resuming with Last-Event-ID.
import { describe, expect, it } from "vitest"
import { EventBus, type SamEvent } from "../../src/runtime/eventBus.ts"

const publish = (bus: EventBus, n: number, keep = true) => {
  for (let i = 0; i < n; i++)
    bus.publish({ type: "supervisor", action: "test", detail: `event ${i}` }, keep ? {} : { keep: false })
}
const details = (events: ReadonlyArray<SamEvent>) =>
  events.map((e) => (e.type === "supervisor" ? e.detail : e.type))

describe("the event history", () => {
  it("keeps the last `historySize` events, oldest first, across many wraps of its ring", () => {
    const bus = new EventBus(3)
    publish(bus, 2)
    expect(details(bus.since())).toEqual(["event 0", "event 1"])
    publish(bus, 8)
    const kept = bus.since()
    expect(kept.map((e) => e.id)).toEqual([8, 9, 10])
    // Resuming after an id replays only what came after it, in order.
    expect(bus.since(8).map((e) => e.id)).toEqual([9, 10])
    expect(bus.since(10)).toEqual([])
    // Delivered but not kept: chatty events leave the history as it was.
    const seen: number[] = []
    bus.subscribe((e) => seen.push(e.id))
    publish(bus, 2, false)
    expect(seen).toEqual([11, 12])
    expect(bus.since().map((e) => e.id)).toEqual([8, 9, 10])
  })

  it("with a history of 0 keeps nothing and still delivers", () => {
    const bus = new EventBus(0)
    const seen: number[] = []
    bus.subscribe((e) => seen.push(e.id))
    publish(bus, 3)
    expect(seen).toEqual([1, 2, 3])
    expect(bus.since()).toEqual([])
  })
})
