// What a bench step measures and reports: a figure (a median with its spread), the baseline it is
// held against and the target for it. table.ts prints them; results.ts records them.

export type Unit = "ms" | "µs" | "MB" | "KB" | "/s" | "lines/s" | "x" | "%"

/** A target from the issue: on the ratio to the baseline, or on the value itself. */
export type Target =
  | { readonly kind: "ratio-at-most"; readonly ratio: number }
  | { readonly kind: "ratio-at-least"; readonly ratio: number }
  | { readonly kind: "at-most"; readonly value: number }
  | { readonly kind: "at-least"; readonly value: number }

export interface Spread {
  readonly min: number
  readonly max: number
  /** How many measurements the median is of. */
  readonly samples: number
}

export interface Figure {
  /** The step that measured it ("supervisor", "agents", ...). */
  readonly step: string
  /** What was measured, e.g. "cold start, 50 services". */
  readonly name: string
  /** Who was measured, e.g. "SAM (sam start)". */
  readonly subject: string
  readonly value: number
  readonly unit: Unit
  readonly spread?: Spread
  /** What the value is divided by for its ratio, measured in the same run. */
  readonly baseline?: { readonly subject: string; readonly value: number }
  readonly target?: Target
  /** How the figure is defined, when its name does not say (printed under the table). */
  readonly note?: string
}

export type Verdict = "pass" | "miss" | "—"

export const ratioOf = (figure: Figure): number | undefined =>
  figure.baseline && figure.baseline.value > 0 ? figure.value / figure.baseline.value : undefined

export const verdictOf = (figure: Figure): Verdict => {
  const target = figure.target
  if (!target) return "—"
  if (target.kind === "ratio-at-most" || target.kind === "ratio-at-least") {
    const ratio = ratioOf(figure)
    if (ratio === undefined) return "—"
    return (target.kind === "ratio-at-most" ? ratio <= target.ratio : ratio >= target.ratio) ? "pass" : "miss"
  }
  if (target.kind === "at-most") return figure.value <= target.value ? "pass" : "miss"
  return figure.value >= target.value ? "pass" : "miss"
}

export const targetText = (figure: Figure): string => {
  const target = figure.target
  if (!target) return "—"
  if (target.kind === "ratio-at-most") return `≤ ${target.ratio}× ${figure.baseline?.subject ?? "baseline"}`
  if (target.kind === "ratio-at-least") return `≥ ${target.ratio}× ${figure.baseline?.subject ?? "baseline"}`
  if (target.kind === "at-most") return `≤ ${formatValue(target.value, figure.unit)}`
  return `≥ ${formatValue(target.value, figure.unit)}`
}

export const formatValue = (value: number, unit: Unit): string => {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  const text = value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  return unit === "/s" || unit === "lines/s"
    ? `${text} ${unit}`
    : unit === "x"
      ? `${text}×`
      : unit === "%"
        ? `${text} %`
        : `${text} ${unit}`
}
