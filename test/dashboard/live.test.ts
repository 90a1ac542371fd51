// How the page's reads behave while SAM cannot be reached: each failed read is not logged, the
// outage is, once, until the event stream is live again (a snapshot); SAM's refusals each are.
import { afterEach, describe, expect, it, vi } from "vitest"
import { Live } from "../../src/dashboard/ui/live.ts"
import { applySnapshot, initialState, Store } from "../../src/dashboard/ui/store.ts"

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe("the dashboard's reads while SAM is down", () => {
  it("log the outage once, not a warning with a stack per failed read", async () => {
    const store = new Store(applySnapshot(initialState, { services: [{ id: "db" }] }, 0))
    const live = new Live(store)
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch")
    })
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {})
    for (const id of [1, 2, 3, 4, 5]) live.readCrash(id)
    await settle()
    expect(warn.mock.calls).toEqual([
      ["dashboard: SAM is not reachable (Failed to fetch); reads wait for the event stream to reconnect"],
    ])
    // Live again (a snapshot), then down again: told again, once.
    ;(live as unknown as { onMessage(e: string, d: object, id: undefined): void }).onMessage(
      "snapshot",
      { services: [{ id: "db" }] },
      undefined,
    )
    for (const id of [6, 7]) live.readCrash(id)
    await settle()
    expect(warn).toHaveBeenCalledTimes(2)
  })
})
