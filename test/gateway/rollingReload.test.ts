// A config change that needs new processes, of a service running several instances, rolls out as
// a Kubernetes Deployment does: one instance at a time, the next once this one is ready again,
// so the gateway answers all along; an instance that does not come up with the new config halts
// the rollout, and the ones not reached keep serving with their old process.
import { afterEach, describe, expect, it } from "vitest"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { eventually, type GatewayHarness, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

const withEnv = (spec: UnitSpec, env: Record<string, string>): UnitSpec => ({
  ...spec,
  process: { ...spec.process!, env },
})

/** Requests through the gateway, one after another, until `stop()`: their statuses (0: no answer). */
const steadyLoad = (url: string) => {
  let going = true
  const statuses: number[] = []
  const done = (async () => {
    while (going)
      statuses.push(
        await fetch(`${url}/api/api/whoami`).then(
          (r) => r.status,
          () => 0,
        ),
      )
  })()
  return {
    stop: async () => {
      going = false
      await done
      return statuses
    },
  }
}

const supervisorEvents = (harness: GatewayHarness) => {
  const seen: Array<{ action: string; detail: string }> = []
  const transitions: string[] = []
  const off = harness.sam.events.subscribe((e: SamEvent) => {
    if (e.type === "supervisor" && e.unit === "api") seen.push({ action: e.action, detail: e.detail ?? "" })
    if (e.type === "transition" && e.unit === "api" && (e.to === "stopping" || e.to === "running.ready"))
      transitions.push(`${e.instance}:${e.to}`)
  })
  return { seen, transitions, off }
}

const versions = async (harness: GatewayHarness) => {
  const out: Record<string, string | undefined> = {}
  for (const i of harness.sam.unitStatus("api").instances) {
    const body = (await (await fetch(`${i.url}/whoami`)).json()) as { version?: string }
    out[String(i.instance)] = body.version
  }
  return out
}

describe("a config change of a service of several instances", () => {
  it("restarts them one at a time, each after the one before is ready again; the gateway answers all along", async () => {
    const v1 = withEnv(upstream("api", { instances: 3 }), { VERSION: "1" })
    h = await startGateway([v1])
    await h.routable("api", 3)
    const before = h.sam.unitStatus("api").instances.map((i) => i.pid)
    const watch = supervisorEvents(h)
    const load = steadyLoad(h.url)
    const report = await h.sam.apply({ units: [withEnv(v1, { VERSION: "2" })], groups: [] })
    expect(report.diff.restarted.map((s) => s.id)).toEqual(["api"])
    await eventually(() => watch.seen.some((e) => e.action === "rolled-out"), 20_000)
    const statuses = await load.stop()
    watch.off()
    expect(watch.transitions).toEqual([
      "0:stopping",
      "0:running.ready",
      "1:stopping",
      "1:running.ready",
      "2:stopping",
      "2:running.ready",
    ])
    const after = h.sam.unitStatus("api").instances.map((i) => i.pid)
    for (const [i, pid] of after.entries()) expect(pid).not.toBe(before[i])
    expect(await versions(h)).toEqual({ 0: "2", 1: "2", 2: "2" })
    expect(statuses.length).toBeGreaterThan(0)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(watch.seen.map((e) => e.detail)).toEqual([
      "api: its config changed: restarting 3 instances one at a time",
      "api: 3 instances run the new config",
    ])
  })

  it("halts at an instance that does not come up with the new config; the others keep serving, and a fixed config rolls on", async () => {
    const v1 = withEnv(upstream("api", { instances: 3 }), { VERSION: "1" })
    h = await startGateway([v1])
    await h.routable("api", 3)
    const [, second, third] = h.sam.unitStatus("api").instances.map((i) => i.pid)
    const watch = supervisorEvents(h)
    const load = steadyLoad(h.url)
    await h.sam.apply({ units: [withEnv(v1, { EXIT_AT_START: "bad: no such model" })], groups: [] })
    await eventually(() => watch.seen.some((e) => e.action === "rollout-halted"), 20_000)
    const halted = watch.seen.find((e) => e.action === "rollout-halted")?.detail ?? ""
    expect(halted).toMatch(/^api: rollout halted: api#0 did not come up with the new config \(/)
    expect(halted).toMatch(/api#1, api#2 keep their old process until they start again$/)
    // The unit's status carries it (`sam ps` prints it under the table) until the next rollout.
    expect(`api: ${h.sam.unitStatus("api").rolloutHalted}`).toBe(halted)
    // Instances 1 and 2 were not touched and still answer through the gateway.
    const status = h.sam.unitStatus("api").instances
    expect(status.slice(1).map((i) => i.pid)).toEqual([second, third])
    expect(status.slice(1).every((i) => i.ready)).toBe(true)
    const meanwhile = await load.stop()
    expect(meanwhile.filter((s) => s !== 200)).toEqual([])

    // The fix rolls: the broken instance first (it serves nothing), then the two old ones.
    const fixed = await h.sam.apply({ units: [withEnv(v1, { VERSION: "3" })], groups: [] })
    expect(fixed.failures).toEqual([])
    await eventually(() => watch.seen.some((e) => e.action === "rolled-out"), 20_000)
    expect(h.sam.unitStatus("api").rolloutHalted).toBeUndefined()
    watch.off()
    await h.routable("api", 3)
    expect(await versions(h)).toEqual({ 0: "3", 1: "3", 2: "3" })
    const pids = h.sam.unitStatus("api").instances.map((i) => i.pid)
    expect(pids[1]).not.toBe(second)
    expect(pids[2]).not.toBe(third)
  })

  it("drains each instance before it restarts with the new config: requests in flight are answered", async () => {
    const v1 = withEnv(upstream("api", { instances: 2 }), { VERSION: "1" })
    h = await startGateway([v1])
    await h.routable("api", 2)
    const watch = supervisorEvents(h)
    const slow = [fetch(`${h.url}/api/api/slow?ms=800`), fetch(`${h.url}/api/api/slow?ms=800`)]
    await eventually(() => h!.gateway.inFlight("api", 0) === 1 && h!.gateway.inFlight("api", 1) === 1)
    await h.sam.apply({ units: [withEnv(v1, { VERSION: "2" })], groups: [] })
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200])
    await eventually(() => watch.seen.some((e) => e.action === "rolled-out"), 20_000)
    watch.off()
    await h.routable("api", 2)
    expect(await versions(h)).toEqual({ 0: "2", 1: "2" })
  })

  it("of a single instance stops and starts it (nothing to roll)", async () => {
    const v1 = withEnv(upstream("api"), { VERSION: "1" })
    h = await startGateway([v1])
    await h.routable("api", 1)
    const watch = supervisorEvents(h)
    await h.sam.apply({ units: [withEnv(v1, { VERSION: "2" })], groups: [] })
    await h.routable("api", 1)
    await eventually(async () => (await versions(h!))[0] === "2")
    watch.off()
    expect(watch.seen.filter((e) => e.action.startsWith("roll"))).toEqual([])
  })
})
