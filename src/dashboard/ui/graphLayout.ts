// A layered drawing of the dependency graph: every unit in the column after its deepest
// dependency (so edges run left to right), units within a column ordered to keep edges short
// (barycentre sweeps), then coordinates. Pure, for DependencyGraph.tsx; the runtime's own graph
// module (src/graph) decides start order and carries Effect, which the page does without.

export interface GraphInput {
  readonly id: string
  readonly dependsOn: ReadonlyArray<string>
}

export interface PlacedNode {
  readonly id: string
  readonly layer: number
  readonly x: number
  readonly y: number
}

export interface PlacedEdge {
  /** The dependent unit. */
  readonly from: string
  /** The unit it depends on. */
  readonly to: string
  readonly path: string
}

export interface Layout {
  readonly nodes: ReadonlyArray<PlacedNode>
  readonly edges: ReadonlyArray<PlacedEdge>
  readonly width: number
  readonly height: number
}

export interface LayoutSizes {
  readonly nodeWidth: number
  readonly nodeHeight: number
  readonly columnGap: number
  readonly rowGap: number
}

export const defaultSizes: LayoutSizes = { nodeWidth: 150, nodeHeight: 36, columnGap: 56, rowGap: 14 }

/** Each node's layer: 0 without (known) dependencies, else one past its deepest; cycles are cut. */
export const layersOf = (nodes: ReadonlyArray<GraphInput>): Map<string, number> => {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const layer = new Map<string, number>()
  const visiting = new Set<string>()
  const visit = (id: string): number => {
    const known = layer.get(id)
    if (known !== undefined) return known
    if (visiting.has(id)) return 0
    visiting.add(id)
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d))
    const depth = deps.length === 0 ? 0 : Math.max(...deps.map(visit)) + 1
    visiting.delete(id)
    layer.set(id, depth)
    return depth
  }
  for (const n of nodes) visit(n.id)
  return layer
}

const mean = (values: ReadonlyArray<number>): number | undefined =>
  values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length

/** How far above the nodes an edge skipping `span` columns rises. */
const arcRise = (span: number, sizes: LayoutSizes) => sizes.rowGap + 10 * Math.min(span, 4)

export const layout = (nodes: ReadonlyArray<GraphInput>, sizes: LayoutSizes = defaultSizes): Layout => {
  const layers = layersOf(nodes)
  const known = new Set(nodes.map((n) => n.id))
  const depth = Math.max(0, ...layers.values())
  const columns: string[][] = Array.from({ length: depth + 1 }, () => [])
  for (const n of nodes) columns[layers.get(n.id) ?? 0]?.push(n.id)
  const neighbours = new Map<string, string[]>(nodes.map((n) => [n.id, []]))
  for (const n of nodes)
    for (const d of n.dependsOn)
      if (known.has(d)) {
        neighbours.get(n.id)?.push(d)
        neighbours.get(d)?.push(n.id)
      }
  // Two sweeps each way: order a column by the mean row of its neighbours in the columns done.
  const rowOf = new Map<string, number>()
  const number = (column: ReadonlyArray<string>) => {
    for (const [row, id] of column.entries()) rowOf.set(id, row)
  }
  for (const column of columns) number(column)
  const sweep = (order: ReadonlyArray<number>) => {
    for (const c of order) {
      const column = columns[c] ?? []
      const key = new Map(
        column.map((id, row) => [id, mean((neighbours.get(id) ?? []).map((m) => rowOf.get(m) ?? 0)) ?? row]),
      )
      column.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || a.localeCompare(b))
      number(column)
    }
  }
  const forward = columns.map((_, i) => i)
  for (let i = 0; i < 2; i++) {
    sweep(forward.slice(1))
    sweep([...forward].reverse().slice(1))
  }
  const tallest = Math.max(1, ...columns.map((c) => c.length))
  const step = sizes.nodeHeight + sizes.rowGap
  // Edges that skip a column arc over the nodes between: room for the highest arc on top.
  const longest = Math.max(
    1,
    ...nodes.flatMap((n) =>
      n.dependsOn.filter((d) => known.has(d)).map((d) => (layers.get(n.id) ?? 0) - (layers.get(d) ?? 0)),
    ),
  )
  const top = longest > 1 ? arcRise(longest, sizes) : 0
  const height = top + tallest * step - sizes.rowGap
  const placed = new Map<string, PlacedNode>()
  for (const [c, column] of columns.entries()) {
    // Shorter columns are centred against the tallest.
    const offset = top + ((tallest - column.length) * step) / 2
    const x = c * (sizes.nodeWidth + sizes.columnGap)
    for (const [row, id] of column.entries()) placed.set(id, { id, layer: c, x, y: offset + row * step })
  }
  const edges: PlacedEdge[] = []
  for (const n of nodes)
    for (const d of n.dependsOn) {
      const from = placed.get(n.id)
      const to = placed.get(d)
      if (!from || !to) continue
      // From the dependent's left side to the dependency's right side, as a smooth curve.
      const x1 = from.x
      const y1 = from.y + sizes.nodeHeight / 2
      const x2 = to.x + sizes.nodeWidth
      const y2 = to.y + sizes.nodeHeight / 2
      const span = from.layer - to.layer
      if (span <= 1) {
        const bend = Math.max(24, (x1 - x2) / 2)
        edges.push({
          from: n.id,
          to: d,
          path: `M${x1},${y1} C${x1 - bend},${y1} ${x2 + bend},${y2} ${x2},${y2}`,
        })
        continue
      }
      // Over the columns in between: leave from the top edge, rise above every node, come down.
      const sx = from.x + sizes.nodeWidth / 3
      const ex = to.x + (sizes.nodeWidth * 2) / 3
      const peak = Math.min(from.y, to.y) - arcRise(span, sizes) * 1.33
      edges.push({ from: n.id, to: d, path: `M${sx},${from.y} C${sx},${peak} ${ex},${peak} ${ex},${to.y}` })
    }
  return {
    nodes: nodes.map((n) => placed.get(n.id)).filter((n): n is PlacedNode => n !== undefined),
    edges,
    width: (depth + 1) * (sizes.nodeWidth + sizes.columnGap) - sizes.columnGap,
    height,
  }
}
