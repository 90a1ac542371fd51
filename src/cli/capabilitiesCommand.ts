// `sam capabilities` (described in commands.ts): every capability of the running SAM with its
// providers, their state and readiness (GET /api/capabilities), as a table or, with --json, as JSON.
import type { ResponseOf } from "../api/controlClient.ts"
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK } from "./command.ts"

type Capabilities = ResponseOf<"capabilities", "list">["capabilities"]

const columns = ["CAPABILITY", "AVAILABLE", "PROVIDER", "STATE", "READY", "IN FLIGHT"] as const

/** One row per provider; a capability nobody provides still gets its row. */
export const formatCapabilities = (capabilities: Capabilities): string => {
  if (capabilities.length === 0) return "no capabilities: no agent or plugin offers or declares one\n"
  const rows = capabilities.flatMap((c) => {
    const available = c.available ? "yes" : "no"
    if (c.providers.length === 0) return [[c.name, available, "-", "-", "-", "-"]]
    const many = new Set(c.providers.map((p) => p.unit)).size < c.providers.length
    return c.providers.map((p) => [
      c.name,
      available,
      many ? `${p.unit}#${p.instance}` : p.unit,
      p.state,
      p.ready ? "yes" : "no",
      String(p.in_flight),
    ])
  })
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return `${[line(columns), ...rows.map(line)].join("\n")}\n`
}

export const run: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client) => {
    const { capabilities } = await client.capabilities.list()
    io.stdout(
      values.json === true
        ? `${JSON.stringify({ capabilities }, null, 2)}\n`
        : formatCapabilities(capabilities),
    )
    return EXIT_OK
  })
