import { describe, expect, it } from "vitest"
import { Sam } from "../../src/runtime/sam.ts"
import { httpCheck, nodeService, survivors } from "../support/runtime.ts"

/** Handles that matter for leaks; stdio pipes and the test runner's own are stable across a run. */
const resources = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r !== "TTYWrap")
    .sort()

/** What `after` holds beyond `before` (as multisets). */
const added = (before: string[], after: string[]) => {
  const rest = [...before]
  return after.filter((r) => {
    const i = rest.indexOf(r)
    if (i === -1) return true
    rest.splice(i, 1)
    return false
  })
}

describe("embedding SAM in a Node app", () => {
  it("start and stop are idempotent, and stopping leaves no process, timer or socket behind", async () => {
    const before = resources()
    const sam = new Sam({
      units: [
        nodeService("db", "http-service.mjs", { probes: [httpCheck()] }),
        nodeService("api", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
      ],
    })
    const seen: string[] = []
    const off = sam.events.subscribe((e) => {
      if (e.type === "transition") seen.push(`${e.unit}:${e.to}`)
    })
    const [first, second] = await Promise.all([sam.start(), sam.start()])
    expect(first).toBe(second)
    expect(first.ready).toEqual(["db", "api"])
    const pids = sam.status().units.map((u) => u.pid as number)
    expect(survivors(pids)).toHaveLength(2)

    await expect(sam.services.start("db")).rejects.toMatchObject({ _tag: "CommandRefused" })
    await expect(sam.agents.start("db")).rejects.toMatchObject({ message: '"db" is a service, not an agent' })
    await expect(sam.services.restart("dv")).rejects.toMatchObject({
      message: 'no service "dv" (did you mean "db"?)',
    })

    await Promise.all([sam.stop(), sam.stop()])
    await sam.stop()
    off()
    expect(survivors(pids)).toEqual([])
    expect(seen.slice(-4)).toEqual(["api:stopping", "api:stopped", "db:stopping", "db:stopped"])
    expect(sam.bus.listenerCount).toBe(0)
    expect(added(before, resources())).toEqual([])
  })
})
