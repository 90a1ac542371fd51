// Ordering units by their `depends_on` edges: start order (dependencies first), stop order
// (dependents first) and who depends on whom. Pure; config validation reports cycles earlier,
// this module refuses them again because embedders can hand it specs directly.

export interface DependencyNode {
  readonly id: string
  readonly dependsOn: ReadonlyArray<string>
}

export class DependencyCycleError extends Error {
  readonly cycle: ReadonlyArray<string>
  constructor(cycle: ReadonlyArray<string>) {
    super(`dependency cycle: ${cycle.join(" -> ")}`)
    this.name = "DependencyCycleError"
    this.cycle = cycle
  }
}

/** Topological order, stable with respect to input order; throws DependencyCycleError. */
export const startOrder = (nodes: ReadonlyArray<DependencyNode>): ReadonlyArray<string> => {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const state = new Map<string, "visiting" | "done">()
  const order: string[] = []
  const visit = (id: string, path: string[]) => {
    const seen = state.get(id)
    if (seen === "done") return
    if (seen === "visiting") throw new DependencyCycleError([...path.slice(path.indexOf(id)), id])
    const node = byId.get(id)
    if (!node) return // unknown dependency: reported by config validation
    state.set(id, "visiting")
    for (const dep of node.dependsOn) visit(dep, [...path, id])
    state.set(id, "done")
    order.push(id)
  }
  for (const node of nodes) visit(node.id, [])
  return order
}

/** For every id, the ids that depend on it directly (one pass, for large unit counts). */
export const dependentsMap = (
  nodes: ReadonlyArray<DependencyNode>,
): ReadonlyMap<string, ReadonlyArray<string>> => {
  const map = new Map<string, string[]>()
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      const list = map.get(dep) ?? []
      list.push(node.id)
      map.set(dep, list)
    }
  }
  return map
}

/** Adjacency list for surfaces (`GET /api/services` → dependencies). */
export const dependencyMap = (nodes: ReadonlyArray<DependencyNode>): Record<string, ReadonlyArray<string>> =>
  Object.fromEntries(nodes.map((n) => [n.id, [...n.dependsOn]]))
