// The one table `npm run bench` prints: each figure with its spread, its baseline and ratio, the
// issue's target and whether it holds; the figures' definitions under it.
import { type Figure, formatValue, ratioOf, targetText, verdictOf } from "./figure.ts"

export const spreadText = (figure: Figure): string =>
  figure.spread
    ? `${formatValue(figure.spread.min, figure.unit)}–${formatValue(figure.spread.max, figure.unit)} (n=${figure.spread.samples})`
    : "—"

export const ratioText = (figure: Figure): string => {
  const ratio = ratioOf(figure)
  return ratio === undefined ? "—" : `${ratio.toFixed(2)}×`
}

export const baselineText = (figure: Figure): string =>
  figure.baseline ? `${figure.baseline.subject} ${formatValue(figure.baseline.value, figure.unit)}` : "—"

export const HEADER = [
  "step",
  "figure",
  "subject",
  "median",
  "spread",
  "baseline",
  "ratio",
  "target",
  "result",
]

export const cells = (figure: Figure): string[] => [
  figure.step,
  figure.name,
  figure.subject,
  formatValue(figure.value, figure.unit),
  spreadText(figure),
  baselineText(figure),
  ratioText(figure),
  targetText(figure),
  verdictOf(figure),
]

/** A plain-text table, columns padded to their widest cell. */
export const renderTable = (figures: ReadonlyArray<Figure>): string => {
  const rows = [HEADER, ...figures.map(cells)]
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)))
  const line = (row: ReadonlyArray<string>) =>
    row
      .map((cell, column) => cell + " ".repeat(widths[column]! - [...cell].length))
      .join("  ")
      .trimEnd()
  const rule = widths.map((width) => "-".repeat(width)).join("  ")
  const notes = [
    ...new Set(
      figures.flatMap((figure) =>
        figure.note ? [`${figure.name} (${figure.subject}): ${figure.note}`] : [],
      ),
    ),
  ]
  return [line(HEADER), rule, ...rows.slice(1).map(line), ...(notes.length ? ["", ...notes] : [])].join("\n")
}
