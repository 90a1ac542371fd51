// The dependency graph as a picture: one node per unit, coloured by its state, an arrow from each
// unit to every unit it depends on; columns run from what depends on nothing (left) to what
// depends on most (right). Clicking a node selects the unit (its log), as Enter or Space does on a
// node focused with Tab. Scales down to a phone.
import { useMemo } from "preact/hooks"
import { defaultSizes, layout } from "../graphLayout.ts"
import { stateLabel, toneOf } from "../states.ts"
import type { Unit } from "../types.ts"
import { useDashboard } from "../useStore.ts"

interface Props {
  readonly units: ReadonlyArray<Unit>
  readonly dependencies: Readonly<Record<string, ReadonlyArray<string>>>
  readonly selected: string | undefined
}

const pad = 8

export const DependencyGraph = ({ units, dependencies, selected }: Props) => {
  const { store } = useDashboard()
  const ids = units.map((u) => u.id).join("\n")
  const shape = JSON.stringify(dependencies)
  // The layout depends on the units and edges only, not on their states.
  const placed = useMemo(
    () => layout(units.map((u) => ({ id: u.id, dependsOn: dependencies[u.id] ?? u.depends_on ?? [] }))),
    [ids, shape],
  )
  const byId = new Map(units.map((u) => [u.id, u]))
  const { nodeWidth: w, nodeHeight: h } = defaultSizes
  if (units.length === 0) return <p class="empty">No units configured.</p>
  return (
    <svg
      class="graph"
      viewBox={`${-pad} ${-pad} ${placed.width + 2 * pad} ${placed.height + 2 * pad}`}
      style={{ maxWidth: `${placed.width + 2 * pad}px` }}
      role="img"
      aria-label={`dependency graph of ${units.length} units`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrow" />
        </marker>
      </defs>
      {placed.edges.map((e) => (
        <path
          key={`${e.from}->${e.to}`}
          d={e.path}
          class={`edge${selected === e.from || selected === e.to ? " edge-hot" : ""}`}
          marker-end="url(#arrow)"
          data-edge={`${e.from}->${e.to}`}
        />
      ))}
      {placed.nodes.map((n) => {
        const unit = byId.get(n.id)
        const tone = unit ? toneOf(unit.status, unit.ready) : "idle"
        return (
          // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
          <g
            key={n.id}
            class={`node tone-${tone}${selected === n.id ? " selected" : ""}`}
            transform={`translate(${n.x},${n.y})`}
            data-node={n.id}
            data-state={unit?.status ?? ""}
            role="button"
            // Lowercase: on an SVG element Preact sets attributes as written, and only `tabindex`
            // makes it focusable (`tabIndex` would be an attribute no browser reads).
            tabindex={0}
            aria-label={`${n.id}: show its log`}
            aria-pressed={selected === n.id}
            onClick={() => store.update((s) => ({ ...s, selected: n.id }))}
            onKeyDown={(e) => {
              if (e.key !== "Enter" && e.key !== " ") return
              // Space would scroll the page.
              e.preventDefault()
              store.update((s) => ({ ...s, selected: n.id }))
            }}
          >
            <title>{`${n.id}: ${unit ? stateLabel(unit.status, unit.ready, unit.readiness_checked) : "unknown"}`}</title>
            <rect width={w} height={h} rx="8" />
            <circle cx="14" cy={h / 2} r="5" class="node-dot" />
            <text x="26" y={h / 2 + 1} dominant-baseline="middle">
              {n.id.length > 17 ? `${n.id.slice(0, 16)}…` : n.id}
            </text>
          </g>
        )
      })}
    </svg>
  )
}
