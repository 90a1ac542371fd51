// `sam alerts` lists the running SAM's alerts (GET /api/alerts): those firing and pending now,
// then the recent ones from the alert history, newest first.
import type { AlertList } from "../api/schemas.ts"
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK, wholeNumberOption } from "./command.ts"

type Alert = (typeof AlertList.Type)["active"][number]

const when = (iso: string | null) => (iso === null ? "-" : iso.replace("T", " ").slice(0, 19))

const table = (alerts: ReadonlyArray<Alert>): string => {
  const rows = alerts.map((a) => [
    a.state.toUpperCase(),
    a.rule,
    a.unit ?? "-",
    when(a.started_at),
    when(a.ended_at),
    a.annotations.summary ?? "",
  ])
  const header = ["STATE", "RULE", "UNIT", "SINCE (UTC)", "ENDED (UTC)", "SUMMARY"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/** Active alerts, then recent ones; says so when there are none (and names the rules). */
export const formatAlerts = (list: typeof AlertList.Type): string => {
  if (list.rules.length === 0) return "no alert rules (monitoring.alerts is empty)\n"
  const parts = [
    list.active.length === 0
      ? `no alert is firing (${list.rules.length} rule${list.rules.length === 1 ? "" : "s"}: ${list.rules.map((r) => r.name).join(", ")})`
      : table(list.active),
  ]
  // Firing ones are listed above already; recent shows the rest of the history.
  const past = list.recent.filter((a) => a.state === "resolved")
  if (past.length > 0) parts.push(`recent:\n${table(past)}`)
  return `${parts.join("\n\n")}\n`
}

export const run: CommandRun = ({ values, io }) => {
  const limit = wholeNumberOption(values, "limit", { min: 1, max: 1000 }, ["sam", "alerts"])
  return withApi(io, values, async (client) => {
    const list = await client.alerts.list({
      query: limit === undefined ? {} : { limit: String(limit) },
    } as never)
    io.stdout(values.json === true ? `${JSON.stringify(list, null, 2)}\n` : formatAlerts(list))
    return EXIT_OK
  })
}
