// `sam crashes [<unit>]` lists the running SAM's crash reports, newest first (GET /api/crashes);
// `sam crashes show <id>` prints one with the last lines the unit printed before it died. With no
// SAM running, both read the reports its last run left (offlineCrashes.ts).
import type { ControlClient } from "../api/controlClient.ts"
import { instanceLabel } from "../api/instanceLabel.ts"
import type { CrashList, CrashReport } from "../api/schemas.ts"
import { type SamNotRunning, withApi } from "./apiClient.ts"
import {
  type CommandRun,
  EXIT_OK,
  type OptionValues,
  stringOption,
  UsageError,
  wholeNumberOption,
} from "./command.ts"
import type { CliIo } from "./io.ts"
import type { CrashQuery } from "./offlineCrashes.ts"
import { terminalSafe } from "./terminalSafe.ts"
import { fetchUnits } from "./unitTable.ts"

type Summary = (typeof CrashList.Type)["crashes"][number]
type Report = typeof CrashReport.Type

const exitOf = (c: Summary): string | null => (c.exit_code !== null ? `code ${c.exit_code}` : c.signal)

/** `code 1`, `SIGKILL`; a limit SAM killed it for beside how it ended: `liveness (SIGTERM)`. */
const endOf = (c: Summary): string => {
  const exit = exitOf(c)
  if (c.failure === "exit") return exit ?? "exit"
  return exit === null ? c.failure : `${c.failure} (${exit})`
}

const seconds = (ms: number): string => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`)

/** The list as a table: id, time, unit#instance, exit, up, reason (cut to the terminal's taste). */
export const formatCrashes = (
  crashes: ReadonlyArray<Summary>,
  several: ReadonlySet<string> = new Set(),
): string => {
  if (crashes.length === 0) return "no crash reports\n"
  const rows = crashes.map((c) => [
    String(c.id),
    c.time.replace("T", " ").slice(0, 19),
    instanceLabel(c.unit, c.instance, several.has(c.unit)),
    endOf(c),
    seconds(c.uptime_ms),
    c.reason.length > 100 ? `${c.reason.slice(0, 99)}…` : c.reason,
  ])
  const header = ["ID", "TIME (UTC)", "UNIT", "EXIT", "UP", "REASON"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd()
  // A reason quotes the unit's last stderr line: shown as `sam logs` shows it (terminalSafe.ts).
  return terminalSafe(`${[line(header), ...rows.map(line)].join("\n")}\n`)
}

export const formatCrash = (c: Report, several: ReadonlySet<string> = new Set()): string => {
  const resources = c.resources as {
    rss_bytes?: number | null
    cpu_seconds?: number | null
    note?: string
    killed_for?: string
  }
  // CPU time as the uptime is written (37ms, 1.2s), not as the float it was measured as.
  const cpu =
    typeof resources.cpu_seconds === "number" ? seconds(Math.round(resources.cpu_seconds * 1000)) : "?"
  const usage =
    typeof resources.rss_bytes === "number"
      ? `rss ${(resources.rss_bytes / 1024 / 1024).toFixed(1)} MB, cpu ${cpu}` +
        (resources.killed_for === undefined ? "" : ` (the reading over its ${resources.killed_for} limit)`)
      : (resources.note ?? "not sampled")
  return terminalSafe(
    [
      `crash ${c.id}: ${instanceLabel(c.unit, c.instance, several.has(c.unit))} at ${c.time}`,
      `  failure:  ${c.failure}${c.exit_code !== null ? `, exit code ${c.exit_code}` : ""}${c.signal !== null ? `, signal ${c.signal}` : ""}`,
      `  reason:   ${c.reason}`,
      `  up:       ${seconds(c.uptime_ms)} (restarts before: ${c.restarts})`,
      `  usage:    ${usage}`,
      `  last ${c.last_lines.length} lines:`,
      ...c.last_lines.map((l) => `    ${l.time.slice(11, 23)} ${l.stream.padEnd(6)} ${l.line}`),
      "",
    ].join("\n"),
  )
}

/** No SAM running: the reports its last run left (offlineCrashes.ts, loaded only then). */
const lastRunCrashes = (io: CliIo, values: OptionValues, query: CrashQuery, why: SamNotRunning) =>
  import("./offlineCrashes.ts").then(({ offlineCrashes }) =>
    offlineCrashes(io, values, query, why, { list: formatCrashes, one: formatCrash }),
  )

/** The running SAM's units that may run several instances: their reports name `web#0`. */
const severalUnits = async (client: ControlClient): Promise<ReadonlySet<string>> =>
  new Set((await fetchUnits(client)).filter((u) => u.several).map((u) => u.id))

export const runShow: CommandRun = ({ values, positionals, io }) => {
  const [id] = positionals
  if (!/^\d{1,15}$/.test(id ?? ""))
    throw new UsageError(`a crash report id is a number, not '${id}'`, ["sam", "crashes", "show"])
  return withApi(
    io,
    values,
    async (client) => {
      const [report, several] = await Promise.all([
        client.crashes.get({ params: { id: id as string } } as never),
        severalUnits(client),
      ])
      io.stdout(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatCrash(report, several))
      return EXIT_OK
    },
    (why) => lastRunCrashes(io, values, { show: Number(id) }, why),
  )
}

export const runList: CommandRun = ({ values, positionals, io }) => {
  const [unit] = positionals
  const limit = wholeNumberOption(values, "limit", { min: 1, max: 1000 }, ["sam", "crashes"])
  return withApi(
    io,
    values,
    async (client) => {
      const since = stringOption(values, "since")
      const query = {
        ...(unit === undefined ? {} : { unit }),
        ...(since === undefined ? {} : { since }),
        ...(limit === undefined ? {} : { limit: String(limit) }),
      }
      const [{ crashes }, several] = await Promise.all([
        client.crashes.list({ query } as never),
        severalUnits(client),
      ])
      io.stdout(
        values.json === true ? `${JSON.stringify(crashes, null, 2)}\n` : formatCrashes(crashes, several),
      )
      return EXIT_OK
    },
    (why) => lastRunCrashes(io, values, unit === undefined ? {} : { unit }, why),
  )
}
