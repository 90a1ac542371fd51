// `sam capabilities` (described in commands.ts): every capability of the running SAM with its
// providers, their state and readiness and what it does (GET /api/capabilities), as a table or,
// with --json, as JSON.
import type { ResponseOf } from "../api/controlClient.ts"
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK } from "./command.ts"

type Capabilities = ResponseOf<"capabilities", "list">["capabilities"]

const fixed = ["CAPABILITY", "AVAILABLE", "PROVIDER", "STATE", "READY", "IN FLIGHT"] as const

/** The narrowest DESCRIPTION column worth showing in a terminal; below it the column is left out. */
const minDescription = 16

/**
 * One row per provider; a capability nobody provides still gets its row. A DESCRIPTION column, on
 * each capability's first row, when one has a description; in a terminal `columns` wide it is cut
 * to fit (with …), and left out when fewer than 16 columns are left for it.
 */
export const formatCapabilities = (capabilities: Capabilities, columns?: number): string => {
  if (capabilities.length === 0) return "no capabilities: no agent or plugin offers or declares one\n"
  const rows = capabilities.flatMap((c) => {
    const available = c.available ? "yes" : "no"
    const description = c.description ?? ""
    if (c.providers.length === 0) return [[c.name, available, "-", "-", "-", "-", description]]
    const many = new Set(c.providers.map((p) => p.unit)).size < c.providers.length
    return c.providers.map((p, i) => [
      c.name,
      available,
      many ? `${p.unit}#${p.instance}` : p.unit,
      p.state,
      p.ready ? "yes" : "no",
      String(p.in_flight),
      i === 0 ? description : "",
    ])
  })
  const widths = fixed.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)))
  const room =
    columns === undefined ? Number.POSITIVE_INFINITY : columns - widths.reduce((a, w) => a + w + 2, 0)
  const described = rows.some((r) => r[6] !== "") && room >= minDescription
  const header: ReadonlyArray<string> = described ? [...fixed, "DESCRIPTION"] : fixed
  if (described) {
    for (const r of rows) if (r[6]!.length > room) r[6] = `${r[6]!.slice(0, room - 1).trimEnd()}…`
    widths.push(0)
  }
  const line = (values: ReadonlyArray<string>) =>
    values
      .slice(0, header.length)
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return `${[line(header), ...rows.map(line)].join("\n")}\n`
}

export const run: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client) => {
    const { capabilities } = await client.capabilities.list()
    io.stdout(
      values.json === true
        ? `${JSON.stringify({ capabilities }, null, 2)}\n`
        : formatCapabilities(capabilities, io.columns),
    )
    return EXIT_OK
  })
