// The dependency graph's drawing: columns by depth of dependencies, every edge left to right,
// no overlapping nodes, and cycles or unknown ids drawn rather than looping.
import { describe, expect, it } from "vitest"
import { defaultSizes, layersOf, layout } from "../../src/dashboard/ui/graphLayout.ts"

describe("the dependency graph layout", () => {
  const units = [
    { id: "notesAgent", dependsOn: ["notes-store", "summaryAgent"] },
    { id: "summaryAgent", dependsOn: [] },
    { id: "notes-store", dependsOn: ["blob-store"] },
    { id: "blob-store", dependsOn: [] },
  ]

  it("puts each unit one column after its deepest dependency", () => {
    expect(Object.fromEntries(layersOf(units))).toEqual({
      "blob-store": 0,
      summaryAgent: 0,
      "notes-store": 1,
      notesAgent: 2,
    })
  })

  it("draws one node per unit, edges from dependent to dependency, nothing overlapping", () => {
    const drawn = layout(units)
    expect(drawn.nodes.map((n) => n.id).sort()).toEqual(units.map((u) => u.id).sort())
    expect(drawn.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual([
      "notes-store->blob-store",
      "notesAgent->notes-store",
      "notesAgent->summaryAgent",
    ])
    const at = new Map(drawn.nodes.map((n) => [n.id, n]))
    for (const e of drawn.edges) expect(at.get(e.from)!.x).toBeGreaterThan(at.get(e.to)!.x)
    for (const a of drawn.nodes)
      for (const b of drawn.nodes)
        if (a !== b && a.x === b.x)
          expect(Math.abs(a.y - b.y)).toBeGreaterThanOrEqual(defaultSizes.nodeHeight)
    expect(drawn.width).toBe(3 * defaultSizes.nodeWidth + 2 * defaultSizes.columnGap)
  })

  it("survives a cycle and a dependency on a unit it does not know", () => {
    const drawn = layout([
      { id: "a", dependsOn: ["b", "ghost"] },
      { id: "b", dependsOn: ["a"] },
    ])
    expect(drawn.nodes).toHaveLength(2)
    expect(drawn.edges.map((e) => e.to).sort()).toEqual(["a", "b"])
  })
})
