// A config reload that changes only a service's instance count is a scale, as `sam scale` is:
// instances are added, or drained and removed, and the others keep their process, port and
// restart count (a Compose/K8s operator edits replicas without an outage). An operator's kept
// scale gives way to the config's new count.
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import { reloadSummary } from "../../src/runtime/reloadSummary.ts"
import { fixturePath } from "../support/daemon.ts"
import { type TempProject, tempProject } from "../support/plugins.ts"
import { survivors } from "../support/runtime.ts"

let configured: ConfiguredSam | undefined
let project: TempProject | undefined
const pids = new Set<number>()
afterEach(async () => {
  await configured?.stop()
  configured = undefined
  project?.remove()
  project = undefined
  expect(survivors(pids)).toEqual([])
  pids.clear()
})

const web = (scaling: Record<string, number>) => ({
  deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
  health_check: { endpoint: "/health", interval_seconds: 0.05, kind: "readiness" },
  stop: { grace_seconds: 2 },
  scaling,
})

const samWith = async (scaling: Record<string, number>) => {
  project = tempProject()
  const p = project
  const write = (s: Record<string, number>) =>
    p.write(
      "sam.json",
      JSON.stringify({ services: { web: web(s) }, runtime: { state_dir: ".sam" } }, null, 2),
    )
  write(scaling)
  const sam = await createSam(p.path("sam.json"), { logFile: false, plugins: false, auditLog: false })
  configured = sam
  sam.events.subscribe((e) => {
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const ready = (n: number) =>
    sam.until("web", (u) => u.instances.length === n && u.instances.every((i) => i.ready), 20_000)
  const instances = () => sam.unitStatus("web").instances.map((i) => ({ pid: i.pid, port: i.port }))
  return { sam, write, ready, instances }
}

describe("a config reload of a service's instance count", () => {
  it("min_instances 2 → 3 adds an instance; the two running keep their pid and port", async () => {
    const { sam, write, ready, instances } = await samWith({ min_instances: 2 })
    await sam.start()
    await ready(2)
    const before = instances()
    write({ min_instances: 3 })
    const report = await sam.reloader!.reload()
    expect(report).toMatchObject({ ok: true, restarted: [], scaled: [{ unit: "web", instances: 3 }] })
    expect(reloadSummary(report)).toBe("config reloaded: scaled web to 3")
    await ready(3)
    expect(instances().slice(0, 2)).toEqual(before)
    expect(sam.unitStatus("web").instances[2]?.pid).toBeGreaterThan(0)
  })

  it("a kept scale of 4 and the config's new count 3: the highest-numbered is drained and removed, the kept scale cleared", async () => {
    const { sam, write, ready, instances } = await samWith({ min_instances: 2, max_instances: 4 })
    await sam.start()
    await ready(2)
    // An operator's scale, kept: the config's new count wins over it, and clears it.
    await sam.scale("web", 4)
    await ready(4)
    expect(sam.unitStatus("web").scaled).toContain("scaled to 4")
    const before = instances()
    const drained = new Promise<string>((resolve) => {
      const off = sam.events.subscribe((e) => {
        if (e.type === "supervisor" && e.action === "scaled" && e.unit === "web") {
          off()
          resolve(String(e.detail))
        }
      })
    })
    write({ min_instances: 3, max_instances: 4 })
    const report = await sam.reloader!.reload()
    expect(report).toMatchObject({ ok: true, restarted: [], scaled: [{ unit: "web", instances: 3 }] })
    expect(await drained).toBe("web: 1 drained and stopped, 3 instances left")
    expect(instances()).toEqual(before.slice(0, 3))
    expect(sam.unitStatus("web").scaled).toBeUndefined()

    // max_instances alone, the running count within it: nothing restarts or scales.
    write({ min_instances: 3, max_instances: 5 })
    expect(await sam.reloader!.reload()).toMatchObject({
      ok: true,
      restarted: [],
      scaled: [],
      reconfigured: ["web"],
    })
    expect(instances()).toEqual(before.slice(0, 3))
    expect(sam.unitStatus("web").maxInstances).toBe(5)
  })

  it("an operator's kept scale and a change of max_instances alone: what runs stays, down to the new maximum", async () => {
    const { sam, write, ready, instances } = await samWith({ min_instances: 1, max_instances: 4 })
    await sam.start()
    await ready(1)
    await sam.scale("web", 3)
    await ready(3)
    const before = instances()
    // Still within the maximum: nothing scales (the scale is no longer kept across SAM restarts:
    // a change of the unit's config ends that, as it ends an operator's stop).
    write({ min_instances: 1, max_instances: 5 })
    expect(await sam.reloader!.reload()).toMatchObject({ ok: true, scaled: [] })
    expect(instances()).toEqual(before)
    // Below what runs: down to the new maximum, not to min_instances.
    write({ min_instances: 1, max_instances: 2 })
    expect(await sam.reloader!.reload()).toMatchObject({ ok: true, scaled: [{ unit: "web", instances: 2 }] })
    await ready(2)
    expect(instances()).toEqual(before.slice(0, 2))
  })

  it("a stopped service's count changes: the change ends the operator's stop, and all its instances start", async () => {
    const { sam, write } = await samWith({ min_instances: 2 })
    await sam.start()
    await sam.until("web", (u) => u.ready, 20_000)
    await sam.services.stop("web")
    write({ min_instances: 3 })
    expect(await sam.reloader!.reload()).toMatchObject({ ok: true, started: ["web"], scaled: [] })
    await sam.until("web", (u) => u.instances.length === 3 && u.ready, 20_000)
  })
})
