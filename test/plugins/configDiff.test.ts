import { describe, expect, it } from "vitest"
import { diffUnits, isEmptyDiff, sameValue } from "../../src/runtime/configDiff.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"

const unit = (id: string, overrides: Parameters<typeof nodeService>[2] = {}) =>
  nodeService(id, "http-service.mjs", { probes: [httpCheck()], ...overrides })

describe("the config diff", () => {
  it("sorts units into added, removed, restarted, reconfigured and unchanged", () => {
    const before = [
      unit("keep"),
      unit("drop"),
      unit("env", { env: { A: "1" } }),
      unit("probe"),
      unit("policy"),
    ]
    const after = [
      unit("keep"),
      unit("env", { env: { A: "2" } }),
      unit("probe", { probes: [httpCheck({ intervalMs: 5_000 })] }),
      unit("policy", { restart: { maxRestarts: 9 }, stop: { graceMs: 1 } }),
      unit("new"),
    ]
    const diff = diffUnits(before, after)
    expect({
      added: diff.added.map((u) => u.id),
      removed: diff.removed,
      restarted: diff.restarted.map((u) => u.id),
      reconfigured: diff.reconfigured.map((u) => u.id),
      unchanged: diff.unchanged,
    }).toEqual({
      added: ["new"],
      removed: ["drop"],
      restarted: ["env"],
      reconfigured: ["probe", "policy"],
      unchanged: ["keep"],
    })
  })

  it("the autoscaler's targets and timings change in place; the instance range is a scale", () => {
    const autoscale = { cpuPercent: 80, upMs: 15_000, downMs: 300_000, cooldownMs: 30_000 }
    const before = [
      unit("tuned", { maxInstances: 3, autoscale }),
      unit("ranged", { maxInstances: 3, autoscale }),
    ]
    const after = [
      unit("tuned", { maxInstances: 3, autoscale: { ...autoscale, cpuPercent: 60, upMs: 5_000 } }),
      unit("ranged", { maxInstances: 4, autoscale }),
    ]
    const diff = diffUnits(before, after)
    expect(diff.reconfigured.map((u) => u.id)).toEqual(["tuned"])
    expect(diff.scaled.map((u) => u.id)).toEqual(["ranged"])
    expect(diff.restarted).toEqual([])
  })

  it("a unit that could run one instance becoming one that may run several restarts (its instances are renamed)", () => {
    const before = [unit("api")]
    const after = [unit("api", { probes: [httpCheck({ intervalMs: 1 })], instances: 2 })]
    expect(diffUnits(before, after).restarted.map((u) => u.id)).toEqual(["api"])
  })

  it("key order and undefined fields are not changes", () => {
    expect(sameValue({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).toBe(true)
    expect(sameValue([1, 2], [2, 1])).toBe(false)
    expect(isEmptyDiff(diffUnits([unit("a")], [{ ...unit("a") }]))).toBe(true)
  })

  it("reports supervision groups whose settings changed", () => {
    const g = { name: "services", strategy: "one_for_one" as const, maxRestarts: 5, windowMs: 60_000 }
    const diff = diffUnits([], [], {
      before: [g],
      after: [
        { ...g, strategy: "one_for_all" },
        { ...g, name: "db" },
      ],
    })
    expect(diff.groups).toEqual(["services", "db"])
  })
})
