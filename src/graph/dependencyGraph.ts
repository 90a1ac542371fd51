// Dependency graphs of named things: units by `depends_on` and plugins by `dependsOn`. Which
// dependencies are missing, which cycles exist, the order to start things in and who depends on
// whom. Pure and neutral, so config checks, the runtime and the plugin host all import it.
import * as Data from "effect/Data"
import * as Result from "effect/Result"

export interface DependencyNode {
  readonly id: string
  readonly dependsOn: ReadonlyArray<string>
}

/** A cycle of dependencies, as the path that closes it: `[a, b, c, a]`, led by its smallest id. */
export class DependencyCycle extends Data.TaggedError("DependencyCycle")<{
  readonly cycle: ReadonlyArray<string>
}> {
  override get message(): string {
    return `dependency cycle: ${this.cycle.join(" -> ")}`
  }
}

/** A dependency on an id that is not among the nodes (`index`: its position in `dependsOn`). */
export interface MissingDependency {
  readonly id: string
  readonly dependency: string
  readonly index: number
}

/** Why a node cannot be ordered. */
export type Blocked =
  | { readonly _tag: "Missing"; readonly missing: ReadonlyArray<string> }
  | { readonly _tag: "Cycle"; readonly cycle: DependencyCycle }
  /** It depends on `dependency`, which is itself blocked. */
  | { readonly _tag: "BlockedBy"; readonly dependency: string }

export interface Ordering {
  /** Every node that can be ordered: dependencies first, otherwise in input order. */
  readonly order: ReadonlyArray<string>
  readonly blocked: ReadonlyMap<string, Blocked>
}

const indexById = (nodes: ReadonlyArray<DependencyNode>): Map<string, DependencyNode> => {
  const byId = new Map<string, DependencyNode>()
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node)
  return byId
}

/** The same cycle is found from whichever member a walk enters it: lead with the smallest id. */
const canonical = (members: ReadonlyArray<string>): DependencyCycle => {
  const smallest = [...members].sort()[0] as string
  const start = members.indexOf(smallest)
  const rotated = [...members.slice(start), ...members.slice(0, start)]
  return new DependencyCycle({ cycle: [...rotated, smallest] })
}

/** Every dependency on an id that is not among the nodes, in input order. */
export const missingDependencies = (
  nodes: ReadonlyArray<DependencyNode>,
): ReadonlyArray<MissingDependency> => {
  const byId = indexById(nodes)
  return nodes.flatMap((node) =>
    node.dependsOn.flatMap((dependency, index) =>
      byId.has(dependency) ? [] : [{ id: node.id, dependency, index }],
    ),
  )
}

/**
 * The cycles a depth-first walk (ids in sorted order) closes, each reported once. Every node on
 * a cycle is on at least one reported cycle. Dependencies on unknown ids are ignored.
 */
export const findCycles = (nodes: ReadonlyArray<DependencyNode>): ReadonlyArray<DependencyCycle> => {
  const byId = indexById(nodes)
  const cycles: DependencyCycle[] = []
  const seen = new Set<string>()
  const state = new Map<string, "active" | "done">()
  const stack: string[] = []
  const visit = (id: string): void => {
    state.set(id, "active")
    stack.push(id)
    for (const next of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(next)) continue
      const s = state.get(next)
      if (s === "active") {
        const cycle = canonical(stack.slice(stack.indexOf(next)))
        const key = cycle.cycle.join("\u0000")
        if (!seen.has(key)) {
          seen.add(key)
          cycles.push(cycle)
        }
      } else if (s === undefined) visit(next)
    }
    stack.pop()
    state.set(id, "done")
  }
  for (const id of [...byId.keys()].sort()) if (!state.has(id)) visit(id)
  return cycles
}

/**
 * The order to start nodes in: each after its dependencies, otherwise in input order. A node
 * with a missing dependency (unless `missing: "ignore"`), on a cycle, or depending on a blocked
 * node is left out and listed in `blocked` with why.
 */
export const orderDependencies = (
  nodes: ReadonlyArray<DependencyNode>,
  options: { readonly missing?: "block" | "ignore" } = {},
): Ordering => {
  const byId = indexById(nodes)
  const blocked = new Map<string, Blocked>()
  if (options.missing !== "ignore")
    for (const node of byId.values()) {
      const missing = node.dependsOn.filter((d) => !byId.has(d))
      if (missing.length > 0) blocked.set(node.id, { _tag: "Missing", missing })
    }
  const order: string[] = []
  const state = new Map<string, "visiting" | "done">()
  /** Whether `id` can be ordered; `path` is the walk that led here. */
  const visit = (id: string, path: ReadonlyArray<string>): boolean => {
    const s = state.get(id)
    if (s === "done") return !blocked.has(id)
    if (s === "visiting") {
      const cycle = canonical(path.slice(path.indexOf(id)))
      for (const member of cycle.cycle) blocked.set(member, { _tag: "Cycle", cycle })
      return false
    }
    state.set(id, "visiting")
    for (const dependency of (byId.get(id) as DependencyNode).dependsOn) {
      if (!byId.has(dependency)) continue
      if (!visit(dependency, [...path, id]) && !blocked.has(id))
        blocked.set(id, { _tag: "BlockedBy", dependency })
    }
    state.set(id, "done")
    if (blocked.has(id)) return false
    order.push(id)
    return true
  }
  for (const id of byId.keys()) visit(id, [])
  return { order, blocked }
}

/**
 * Start order of units: dependencies first, otherwise input order. Dependencies on ids not among
 * the nodes are ignored (config validation reports them); a cycle fails.
 */
export const startOrder = (
  nodes: ReadonlyArray<DependencyNode>,
): Result.Result<ReadonlyArray<string>, DependencyCycle> => {
  const { order, blocked } = orderDependencies(nodes, { missing: "ignore" })
  for (const why of blocked.values()) if (why._tag === "Cycle") return Result.fail(why.cycle)
  return Result.succeed(order)
}

/** For every id, the ids that depend on it directly (one pass, for large unit counts). */
export const dependentsOf = (
  nodes: ReadonlyArray<DependencyNode>,
): ReadonlyMap<string, ReadonlyArray<string>> => {
  const map = new Map<string, string[]>()
  for (const node of nodes)
    for (const dependency of node.dependsOn) {
      const list = map.get(dependency) ?? []
      list.push(node.id)
      map.set(dependency, list)
    }
  return map
}
