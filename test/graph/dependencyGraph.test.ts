import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  DependencyCycle,
  dependentsOf,
  findCycles,
  missingDependencies,
  orderDependencies,
  startOrder,
} from "../../src/graph/dependencyGraph.ts"

const graph = (edges: Record<string, ReadonlyArray<string>>) =>
  Object.entries(edges).map(([id, dependsOn]) => ({ id, dependsOn }))

describe("the dependency graph", () => {
  it("orders dependencies first and keeps the input order otherwise", () => {
    const nodes = graph({ web: ["api"], worker: [], api: ["db", "cache"], cache: [], db: [] })
    expect(startOrder(nodes)).toEqual(Result.succeed(["db", "cache", "api", "web", "worker"]))
    expect(orderDependencies(nodes)).toEqual({
      order: ["db", "cache", "api", "web", "worker"],
      blocked: new Map(),
    })
  })

  it("reports a cycle as a tagged error with the path that closes it, led by its smallest id", () => {
    const order = startOrder(graph({ c: ["a"], b: ["c"], a: ["b"], d: [] }))
    expect(Result.isFailure(order)).toBe(true)
    const cycle = (order as Result.Failure<never, DependencyCycle>).failure
    expect(cycle).toBeInstanceOf(DependencyCycle)
    expect(cycle._tag).toBe("DependencyCycle")
    expect(cycle.cycle).toEqual(["a", "b", "c", "a"])
    expect(cycle.message).toBe("dependency cycle: a -> b -> c -> a")
  })

  it("finds each cycle once, self-dependencies included, and ignores unknown ids", () => {
    const cycles = findCycles(graph({ a: ["b"], b: ["c", "ghost"], c: ["a"], d: ["d"], e: ["a"] }))
    expect(cycles.map((c) => c.cycle)).toEqual([
      ["a", "b", "c", "a"],
      ["d", "d"],
    ])
  })

  it("lists dependencies on ids that are not there, with their position", () => {
    expect(missingDependencies(graph({ a: ["b", "x"], b: [], c: ["y"] }))).toEqual([
      { id: "a", dependency: "x", index: 1 },
      { id: "c", dependency: "y", index: 0 },
    ])
  })

  it("blocks nodes with missing dependencies, on cycles, or depending on blocked nodes", () => {
    const { order, blocked } = orderDependencies(
      graph({ a: ["b"], b: ["a"], c: ["a"], d: ["nope"], e: ["d"], f: [] }),
    )
    expect(order).toEqual(["f"])
    expect(blocked.get("a")).toMatchObject({ _tag: "Cycle", cycle: { cycle: ["a", "b", "a"] } })
    expect(blocked.get("b")).toMatchObject({ _tag: "Cycle" })
    expect(blocked.get("c")).toEqual({ _tag: "BlockedBy", dependency: "a" })
    expect(blocked.get("d")).toEqual({ _tag: "Missing", missing: ["nope"] })
    expect(blocked.get("e")).toEqual({ _tag: "BlockedBy", dependency: "d" })
  })

  it("start order ignores dependencies on ids it does not know (config validation reports them)", () => {
    expect(startOrder(graph({ api: ["db"], db: ["disabled"] }))).toEqual(Result.succeed(["db", "api"]))
  })

  it("knows who depends on whom", () => {
    expect(dependentsOf(graph({ api: ["db"], web: ["api", "db"], db: [] }))).toEqual(
      new Map([
        ["db", ["api", "web"]],
        ["api", ["web"]],
      ]),
    )
  })
})
