// `sam crashes [<unit>]` lists the running SAM's crash reports, newest first (GET /api/crashes);
// `sam crashes show <id>` prints one with the last lines the unit printed before it died.
import type { CrashList, CrashReport } from "../api/schemas.ts"
import { apiOptions, withApi } from "./apiClient.ts"
import { type Command, EXIT_OK, stringOption, UsageError } from "./command.ts"

type Summary = (typeof CrashList.Type)["crashes"][number]
type Report = typeof CrashReport.Type

const exitOf = (c: Summary): string =>
  c.exit_code !== null ? `code ${c.exit_code}` : c.signal !== null ? c.signal : c.failure

const seconds = (ms: number): string => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`)

/** The list as a table: id, time, unit#instance, exit, up, reason (cut to the terminal's taste). */
export const formatCrashes = (crashes: ReadonlyArray<Summary>): string => {
  if (crashes.length === 0) return "no crash reports\n"
  const rows = crashes.map((c) => [
    String(c.id),
    c.time.replace("T", " ").slice(0, 19),
    c.instance > 0 ? `${c.unit}#${c.instance}` : c.unit,
    c.failure === "exit" ? exitOf(c) : `${c.failure} (${exitOf(c)})`,
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
  return `${[line(header), ...rows.map(line)].join("\n")}\n`
}

export const formatCrash = (c: Report): string => {
  const resources = c.resources as { rss_bytes?: number | null; cpu_seconds?: number | null; note?: string }
  const usage =
    typeof resources.rss_bytes === "number"
      ? `rss ${(resources.rss_bytes / 1024 / 1024).toFixed(1)} MB, cpu ${resources.cpu_seconds ?? "?"} s`
      : (resources.note ?? "not sampled")
  return [
    `crash ${c.id}: ${c.unit}${c.instance > 0 ? `#${c.instance}` : ""} at ${c.time}`,
    `  failure:  ${c.failure}${c.exit_code !== null ? `, exit code ${c.exit_code}` : ""}${c.signal !== null ? `, signal ${c.signal}` : ""}`,
    `  reason:   ${c.reason}`,
    `  up:       ${seconds(c.uptime_ms)} (restarts before: ${c.restarts})`,
    `  usage:    ${usage}`,
    `  last ${c.last_lines.length} lines:`,
    ...c.last_lines.map((l) => `    ${l.time.slice(11, 23)} ${l.stream.padEnd(6)} ${l.line}`),
    "",
  ].join("\n")
}

export const crashesCommand: Command = {
  name: "crashes",
  summary: "List crash reports (sam crashes show <id> prints one)",
  args: "[<unit>] | show <id>",
  description:
    "List the running SAM's crash reports, newest first: one for every unexpected exit of a unit and\n" +
    "every kill for a limit (liveness, heartbeat, memory). `sam crashes show <id>` prints one report\n" +
    "with the last lines the unit printed. Kept per monitoring.crash_reports (count and age).",
  positionals: { min: 0, max: 2 },
  options: {
    ...apiOptions,
    since: {
      type: "string",
      placeholder: "when",
      description: "Only reports since a duration back (2h, 7d) or an ISO time",
    },
    limit: { type: "string", placeholder: "N", description: "At most N reports (default 50)" },
    json: { type: "boolean", description: "Print JSON" },
  },
  run: ({ values, positionals, io }) => {
    const [first, second] = positionals
    const showing = first === "show"
    if (showing && second === undefined)
      throw new UsageError("'sam crashes show' needs <id>", ["sam", "crashes"])
    if (!showing && second !== undefined)
      throw new UsageError(`unexpected argument '${second}' for 'sam crashes'`, ["sam", "crashes"])
    if (showing && !/^\d{1,15}$/.test(second as string))
      throw new UsageError(`a crash report id is a number, not '${second}'`, ["sam", "crashes"])
    const limit = stringOption(values, "limit")
    if (limit !== undefined && !/^\d{1,4}$/.test(limit))
      throw new UsageError(`--limit needs a whole number, got '${limit}'`, ["sam", "crashes"])
    return withApi(io, values, async (api) => {
      if (showing) {
        const report = await api.call<Report>("GET", `/api/crashes/${second}`)
        io.stdout(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatCrash(report))
        return EXIT_OK
      }
      const query = new URLSearchParams()
      if (first !== undefined) query.set("unit", first)
      const since = stringOption(values, "since")
      if (since !== undefined) query.set("since", since)
      if (limit !== undefined) query.set("limit", limit)
      const { crashes } = await api.call<typeof CrashList.Type>(
        "GET",
        `/api/crashes${query.size > 0 ? `?${query}` : ""}`,
      )
      io.stdout(values.json === true ? `${JSON.stringify(crashes, null, 2)}\n` : formatCrashes(crashes))
      return EXIT_OK
    })
  },
}
