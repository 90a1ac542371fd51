// bench/RESULTS.md: every run of `npm run bench` appends one row per figure to the table at the
// end of the file, with the run's date, cores, Node, load average and exact command.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import type { Figure } from "./figure.ts"
import { cells, HEADER } from "./table.ts"

export interface RunFacts {
  readonly date: string
  readonly cores: number
  readonly node: string
  /** 1-minute load average at the start and at the end of the run. */
  readonly load: string
  readonly command: string
}

export const RUN_COLUMNS = ["date", "cores", "Node", "load (start→end)", "command"]

export const RUNS_HEADING = "## Runs"

const tableHeader = (): string => {
  const columns = [...RUN_COLUMNS, ...HEADER]
  return `| ${columns.join(" | ")} |\n|${columns.map(() => "---").join("|")}|\n`
}

const escapeCell = (cell: string) => cell.replaceAll("|", "\\|")

export const resultRows = (facts: RunFacts, figures: ReadonlyArray<Figure>): string[] =>
  figures.map(
    (figure) =>
      `| ${[facts.date, String(facts.cores), facts.node, facts.load, `\`${facts.command}\``, ...cells(figure)]
        .map(escapeCell)
        .join(" | ")} |`,
  )

/** Append the run's rows to `file`; a missing file gets a heading and the table's header first. */
export const appendResults = (file: string, facts: RunFacts, figures: ReadonlyArray<Figure>): void => {
  const rows = resultRows(facts, figures).join("\n")
  if (!existsSync(file)) {
    writeFileSync(file, `# Benchmark results\n\n${RUNS_HEADING}\n\n${tableHeader()}${rows}\n`)
    return
  }
  const text = readFileSync(file, "utf8").trimEnd()
  const withTable = text.includes(RUNS_HEADING)
    ? text
    : `${text}\n\n${RUNS_HEADING}\n\n${tableHeader().trimEnd()}`
  writeFileSync(file, `${withTable}\n${rows}\n`)
}
