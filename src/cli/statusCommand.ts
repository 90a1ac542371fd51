// `sam status` (SAM's health and resources, then every unit) and `sam ps` (just the units) of a
// running SAM, as a table or, with --json, as JSON for scripts.
import type { SystemStatus } from "../api/schemas.ts"
import { apiOptions, withApi } from "./apiClient.ts"
import { type Command, EXIT_OK } from "./command.ts"
import { fetchUnits, formatBytes, formatTable, formatUptime } from "./unitTable.ts"

const json = { type: "boolean", description: "Print JSON instead of a table" } as const

export const psCommand: Command = {
  name: "ps",
  summary: "List the agents and services of the running SAM",
  description:
    "List every agent and service of the running SAM: id, kind, runtime, state, readiness, restarts,\n" +
    "uptime, pid, CPU and memory. Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN).",
  options: { ...apiOptions, json },
  run: ({ values, io }) =>
    withApi(io, values, async (api) => {
      const units = await fetchUnits(api)
      io.stdout(values.json === true ? `${JSON.stringify(units, null, 2)}\n` : formatTable(units))
      return EXIT_OK
    }),
}

type Status = typeof SystemStatus.Type

const summary = (url: string, s: Status): string => {
  const { memory, cpu, disk } = s.resources
  const counts = (c: Status["agents"], noun: string) =>
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

export const statusCommand: Command = {
  name: "status",
  summary: "Show the running SAM's health, resources and units",
  description:
    "Show the running SAM: overall health, uptime, resources, then the table of `sam ps`.\n" +
    "Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN).",
  options: { ...apiOptions, json },
  run: ({ values, io }) =>
    withApi(io, values, async (api) => {
      const [status, units] = await Promise.all([api.call<Status>("GET", "/api/status"), fetchUnits(api)])
      io.stdout(
        values.json === true
          ? `${JSON.stringify({ ...status, units }, null, 2)}\n`
          : `${summary(api.url, status)}\n${formatTable(units)}`,
      )
      return EXIT_OK
    }),
}
