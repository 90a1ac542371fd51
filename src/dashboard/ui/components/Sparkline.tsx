// A small line of a unit's CPU, memory, gateway requests or capability invocations per second
// over the last minutes (the metrics history, then live
// samples), placed by time with the newest point at the right edge (the width spans one to five
// minutes, as much as there is) and scaled to its own range;
// empty until two points exist. Drawn in SVG so it stays sharp at any zoom. Test hooks:
// data-sparkline (cpu|memory|requests|invocations), data-points (how many), data-from (ISO time of the oldest).
import { type Point, sparkWindowMs } from "../store.ts"

interface Props {
  readonly points: ReadonlyArray<Point>
  /** The top of the scale at least (100 for CPU %, so an idle unit does not look busy). */
  readonly floor?: number
  readonly label: string
  readonly tone: "cpu" | "memory" | "requests" | "invocations"
}

const width = 120
const minSpanMs = 60_000
const height = 28

export const Sparkline = ({ points, floor = 0, label, tone }: Props) => {
  const hooks = {
    "data-sparkline": tone,
    "data-points": String(points.length),
    "data-from": points.length === 0 ? "" : new Date(points[0]?.[0] ?? 0).toISOString(),
  }
  if (points.length < 2)
    return (
      <svg
        class={`spark spark-${tone}`}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${label}: no samples yet`}
        {...hooks}
      >
        <line x1="0" y1={height - 1} x2={width} y2={height - 1} class="spark-base" />
      </svg>
    )
  const top = Math.max(floor, ...points.map(([, v]) => v)) || 1
  const newest = points.at(-1)?.[0] ?? 0
  // The width spans what there is (a young unit's line is not a sliver at the right), but at
  // least a minute, so a few seconds of samples do not look like a long history.
  const span = Math.min(sparkWindowMs, Math.max(minSpanMs, newest - (points[0]?.[0] ?? newest)))
  const xy = points.map(
    ([t, v]) =>
      `${(width - ((newest - t) / span) * width).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`,
  )
  const left = xy[0]?.split(",")[0] ?? "0"
  return (
    <svg
      class={`spark spark-${tone}`}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      {...hooks}
    >
      <line x1="0" y1={height - 1} x2={width} y2={height - 1} class="spark-base" />
      <polygon points={`${left},${height} ${xy.join(" ")} ${width},${height}`} class="spark-fill" />
      <polyline points={xy.join(" ")} class="spark-line" />
    </svg>
  )
}
