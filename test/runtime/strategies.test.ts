import { afterEach, describe, expect, it } from "vitest"
import { type Harness, harness, httpCheck, nodeService, survivors, waitFor } from "../support/runtime.ts"

let h: Harness | undefined
afterEach(async () => {
  if (!h) return
  await h.dispose()
  expect(survivors(h.pids)).toEqual([])
  h = undefined
})

const trio = (group: string) =>
  ["a", "b", "c"].map((id) => nodeService(id, "http-service.mjs", { group, probes: [httpCheck()] }))

const pids = (h: Harness) =>
  Object.fromEntries(["a", "b", "c"].map((id) => [id, h.supervisor.status(id).pid]))

const allReadyAgain = (h: Harness, ids: string[]) =>
  Promise.all(
    ids.map((id) =>
      waitFor(h.supervisor.runners(id)[0]!, (r) => r.state === "running" && r.ready && r.restarts > 0),
    ),
  )

describe("group strategies restart exactly the right siblings", () => {
  it("one_for_one restarts only the failed child", async () => {
    h = harness(trio("g"), [{ name: "g", strategy: "one_for_one", maxRestarts: 10, windowMs: 60_000 }])
    await h.supervisor.startAll()
    const before = pids(h)
    process.kill(before.b as number, "SIGKILL")
    await allReadyAgain(h, ["b"])
    const after = pids(h)
    expect(after.a).toBe(before.a)
    expect(after.b).not.toBe(before.b)
    expect(after.c).toBe(before.c)
  })

  it("one_for_all restarts every sibling when one fails", async () => {
    h = harness(trio("g"), [{ name: "g", strategy: "one_for_all", maxRestarts: 10, windowMs: 60_000 }])
    await h.supervisor.startAll()
    const before = pids(h)
    process.kill(before.b as number, "SIGKILL")
    await allReadyAgain(h, ["a", "b", "c"])
    const after = pids(h)
    for (const id of ["a", "b", "c"]) expect(after[id]).not.toBe(before[id])
  })

  it("rest_for_one restarts the failed child and those started after it", async () => {
    h = harness(trio("g"), [{ name: "g", strategy: "rest_for_one", maxRestarts: 10, windowMs: 60_000 }])
    await h.supervisor.startAll()
    const before = pids(h)
    process.kill(before.b as number, "SIGKILL")
    await allReadyAgain(h, ["b", "c"])
    const after = pids(h)
    expect(after.a).toBe(before.a)
    expect(after.b).not.toBe(before.b)
    expect(after.c).not.toBe(before.c)
  })

  it("a group's strategy can be changed at run time without touching its running units", async () => {
    h = harness(trio("g"), [{ name: "g", strategy: "one_for_one", maxRestarts: 10, windowMs: 60_000 }])
    await h.supervisor.startAll()
    const before = pids(h)
    h.supervisor.configureGroups([{ name: "g", strategy: "one_for_all", maxRestarts: 10, windowMs: 60_000 }])
    expect(pids(h)).toEqual(before)
    process.kill(before.a as number, "SIGKILL")
    await allReadyAgain(h, ["a", "b", "c"])
    const after = pids(h)
    for (const id of ["a", "b", "c"]) expect(after[id]).not.toBe(before[id])
  })

  it("a group past its restart intensity shuts down its children and escalates to the root", async () => {
    const specs = ["x", "y"].map((id) =>
      nodeService(id, "exit.mjs", { group: "fragile", env: { EXIT_CODE: "1", EXIT_AFTER_MS: "30" } }),
    )
    h = harness(specs, [{ name: "fragile", strategy: "one_for_one", maxRestarts: 3, windowMs: 60_000 }])
    void h.supervisor.startAll()
    const shutdown = await h.next((e) => e.type === "supervisor" && e.action === "group-shutdown")
    expect(shutdown).toMatchObject({ group: "fragile" })
    await h.next((e) => e.type === "supervisor" && e.action === "escalation" && e.group === "root")
    await Promise.all(
      ["x", "y"].map((id) => waitFor(h!.supervisor.runners(id)[0]!, (r) => r.state === "crashed")),
    )
    expect(h.supervisor.groupStates().find((g) => g.name === "fragile")?.failed).toBe(true)
  })

  it("a start of one member of a group that shut down brings the group back, its other members with it", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const { join } = await import("node:path")
    const dir = mkdtempSync(join(tmpdir(), "sam-group-"))
    const flag = join(dir, "configured")
    try {
      // Both fail until the operator's fix (the flag file) is in place.
      const specs = ["x", "y"].map((id) =>
        nodeService(id, "flag-service.mjs", {
          group: "fragile",
          env: { FLAG_FILE: flag },
          probes: [httpCheck()],
        }),
      )
      h = harness(specs, [{ name: "fragile", strategy: "one_for_all", maxRestarts: 2, windowMs: 60_000 }])
      void h.supervisor.startAll()
      await h.next((e) => e.type === "supervisor" && e.action === "group-shutdown")
      await Promise.all(
        ["x", "y"].map((id) => waitFor(h!.supervisor.runners(id)[0]!, (r) => r.state === "crashed")),
      )
      writeFileSync(flag, "")
      await h.supervisor.command("x", "start")
      await Promise.all(
        ["x", "y"].map((id) =>
          waitFor(h!.supervisor.runners(id)[0]!, (r) => r.state === "running" && r.ready),
        ),
      )
      expect(h.supervisor.groupStates().find((g) => g.name === "fragile")?.failed).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
