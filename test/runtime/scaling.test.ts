import { afterEach, describe, expect, it } from "vitest"
import { type Harness, harness, httpCheck, nodeService, waitFor } from "../support/runtime.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const allReady = (h: Harness, id: string) =>
  Promise.all(h.supervisor.runners(id).map((r) => waitFor(r, (x) => x.state === "running" && x.ready)))

const api = (instances: number, maxInstances: number) =>
  nodeService("api", "http-service.mjs", {
    instances,
    maxInstances,
    probes: [httpCheck({ intervalMs: 100 })],
  })

describe("scaling a unit", () => {
  it("up starts new instances on ports of their own; down drains, stops and releases the highest ones", async () => {
    h = harness([api(1, 3)])
    await h.supervisor.startAll()
    const first = h.supervisor.status("api").instances[0]!
    await h.supervisor.scale("api", 3)
    await allReady(h, "api")
    const three = h.supervisor.status("api").instances
    expect(three.map((i) => i.instance)).toEqual([0, 1, 2])
    expect(new Set(three.map((i) => i.port)).size).toBe(3)
    expect(h.supervisor.runners("api").map((r) => r.key)).toEqual(["api#0", "api#1", "api#2"])

    const drained: number[] = []
    await h.supervisor.scale("api", 1, async (_unit, instance) => {
      // The instance is still running while it drains: the stop comes after.
      expect(h!.supervisor.runners("api")[instance]).toMatchObject({ state: "running", draining: true })
      drained.push(instance)
    })
    expect(drained.sort()).toEqual([1, 2])
    expect(h.supervisor.status("api").instances).toHaveLength(1)
    expect(h.supervisor.status("api").instances[0]).toMatchObject({ pid: first.pid, state: "running" })

    // An instance number keeps its port across scaling.
    await h.supervisor.scale("api", 2)
    await allReady(h, "api")
    expect(h.supervisor.status("api").instances[1]!.port).toBe(three[1]!.port)
  })

  it("the unit's restarts keep those of the instances a scale down removed", async () => {
    h = harness([api(2, 2)])
    await h.supervisor.startAll()
    await allReady(h, "api")
    // Instance 1 is killed from outside and comes back: one restart, of the unit too.
    const killed = h.supervisor.runners("api")[1]!
    const pid = killed.pid as number
    process.kill(pid, "SIGKILL")
    await waitFor(killed, (r) => r.state === "running" && r.ready && r.pid !== pid)
    expect(h.supervisor.status("api").restarts).toBe(1)
    await h.supervisor.scale("api", 1)
    expect(h.supervisor.status("api").instances).toHaveLength(1)
    expect(h.supervisor.status("api").restarts).toBe(1)
  })

  it("a count outside 0..max_instances is refused, naming the range", async () => {
    h = harness([api(1, 2)])
    await h.supervisor.startAll()
    await expect(h.supervisor.scale("api", 3)).rejects.toMatchObject({
      _tag: "ScaleRefused",
      message: 'cannot scale "api" to 3 instances: it may run 0 to 2 (scaling.max_instances)',
    })
  })

  it("a unit with min_instances 0 runs nothing until scaled up, and nothing again when scaled to 0", async () => {
    h = harness([api(0, 1)])
    const report = await h.supervisor.startAll()
    expect(report.notReady).toEqual([
      {
        id: "api",
        state: "stopped",
        reason:
          "api runs 0 instances (scaling.min_instances: 0) until it is scaled up or a request for it comes through the gateway (/api/api/)",
      },
    ])
    expect(h.supervisor.status("api")).toMatchObject({ state: "stopped", ready: false, instances: [] })
    await h.supervisor.scale("api", 1)
    await allReady(h, "api")
    const pid = h.supervisor.status("api").pid as number
    h.pids.add(pid)
    await h.supervisor.scale("api", 0)
    expect(h.supervisor.status("api")).toMatchObject({ state: "stopped", instances: [] })
  })

  it("start of a unit scaled to 0 brings back its min_instances (at least one); restart and stop are refused", async () => {
    h = harness([
      api(2, 3),
      nodeService("lazy", "http-service.mjs", {
        instances: 0,
        maxInstances: 1,
        probes: [httpCheck({ intervalMs: 100 })],
      }),
    ])
    await h.supervisor.startAll()
    await allReady(h, "api")
    await h.supervisor.scale("api", 0)
    expect(h.supervisor.status("api")).toMatchObject({ state: "stopped", instances: [] })
    await expect(h.supervisor.command("api", "restart")).rejects.toMatchObject({
      _tag: "CommandRefused",
      message: 'cannot restart "api": it is stopped',
    })
    await expect(h.supervisor.command("api", "stop")).rejects.toMatchObject({ _tag: "CommandRefused" })
    await h.supervisor.command("api", "start")
    expect(h.supervisor.runners("api")).toHaveLength(2)
    await allReady(h, "api")
    for (const r of h.supervisor.runners("api")) h.pids.add(r.pid as number)
    // min_instances 0: one instance, as `sam scale lazy 1` would start.
    await h.supervisor.command("lazy", "start")
    expect(h.supervisor.runners("lazy")).toHaveLength(1)
    await allReady(h, "lazy")
    h.pids.add(h.supervisor.status("lazy").pid as number)
  })
})
