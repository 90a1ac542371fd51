// `sam status` (SAM's health and resources, then every unit) and `sam ps` (just the units) of a
// running SAM, as a table or, with --json, as JSON for scripts; `sam ps <id>...` only those units.
// Described in commands.ts.
import type { ResponseOf } from "../api/controlClient.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK } from "./command.ts"
import {
  fetchUnits,
  formatBytes,
  formatTable,
  formatUptime,
  type UnitRow,
  unknownUnits,
} from "./unitTable.ts"

/** The rows of the units `ids` name (every unit without ids), in SAM's order; an unknown id is an error. */
const selected = (units: ReadonlyArray<UnitRow>, ids: ReadonlyArray<string>): ReadonlyArray<UnitRow> => {
  if (ids.length === 0) return units
  const unknown = unknownUnits(
    ids,
    units.map((u) => u.id),
  )
  if (unknown !== undefined) throw new ApiCallError(unknown)
  return units.filter((u) => ids.includes(u.id))
}

export const runPs: CommandRun = ({ values, positionals, io }) =>
  withApi(io, values, async (client) => {
    const units = selected(await fetchUnits(client), positionals)
    io.stdout(values.json === true ? `${JSON.stringify(units, null, 2)}\n` : formatTable(units))
    return EXIT_OK
  })

type SystemStatus = ResponseOf<"system", "status">

const summary = (url: string, s: SystemStatus): string => {
  const { memory, cpu, disk } = s.resources
  const counts = (c: SystemStatus["agents"], noun: string) =>
    `${c.running}/${c.total} ${noun} running${c.error > 0 ? `, ${c.error} failing` : ""}${c.other > 0 ? `, ${c.other} changing` : ""}`
  return [
    `SAM ${s.version} at ${url}: ${s.health}, up ${formatUptime(s.uptime)}`,
    `${counts(s.services, "services")}; ${counts(s.agents, "agents")}`,
    `host: load ${cpu.load_average.join(" ")} on ${cpu.cores} cores, memory ${formatBytes(memory.free_bytes)} free ` +
      `of ${formatBytes(memory.total_bytes)}, SAM ${formatBytes(memory.sam_rss_bytes)}; ` +
      `disk ${formatBytes(disk.free_bytes)} free at ${disk.path}`,
    "",
  ].join("\n")
}

export const runStatus: CommandRun = ({ values, io }) =>
  withApi(io, values, async (client) => {
    const [status, units] = await Promise.all([client.system.status(), fetchUnits(client)])
    io.stdout(
      values.json === true
        ? `${JSON.stringify({ ...status, units }, null, 2)}\n`
        : `${summary(client.url, status)}\n${formatTable(units)}`,
    )
    return EXIT_OK
  })
