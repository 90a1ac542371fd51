// A small line of the last samples (CPU or memory), scaled to its own range; empty until two
// samples exist. Drawn in SVG so it stays sharp at any zoom.
interface Props {
  readonly values: ReadonlyArray<number>
  /** The top of the scale at least (100 for CPU %, so an idle unit does not look busy). */
  readonly floor?: number
  readonly label: string
  readonly tone: "cpu" | "memory"
}

const width = 120
const height = 28

export const Sparkline = ({ values, floor = 0, label, tone }: Props) => {
  if (values.length < 2)
    return (
      <svg
        class={`spark spark-${tone}`}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${label}: no samples yet`}
      >
        <line x1="0" y1={height - 1} x2={width} y2={height - 1} class="spark-base" />
      </svg>
    )
  const top = Math.max(floor, ...values) || 1
  const step = width / (values.length - 1)
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`,
  )
  return (
    <svg class={`spark spark-${tone}`} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polygon points={`0,${height} ${points.join(" ")} ${width},${height}`} class="spark-fill" />
      <polyline points={points.join(" ")} class="spark-line" />
    </svg>
  )
}
