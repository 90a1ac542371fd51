// `sam start|stop|restart|suspend|resume <id>` on a unit of the running SAM, through its control
// API. The unit's kind is looked up first, so one command works for agents and services alike.
import type { Agent, Service } from "../api/schemas.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { ApiCallError, apiOptions, type SamApi, withApi } from "./apiClient.ts"
import { type Command, type CommandContext, EXIT_OK, type OptionSpec, UsageError } from "./command.ts"
import { fetchUnits } from "./unitTable.ts"

export type LifecycleName = "start" | "stop" | "restart" | "suspend" | "resume"

const stopOptions: Readonly<Record<string, OptionSpec>> = {
  force: { type: "boolean", description: "Kill at once (SIGKILL) instead of a graceful stop" },
  timeout: {
    type: "string",
    placeholder: "seconds",
    description: "Grace before the kill (default: the unit's)",
  },
}

const body = (name: LifecycleName, values: CommandContext["values"]): Record<string, unknown> => {
  if (name === "start") return values.force === true ? { force: true } : {}
  const out: Record<string, unknown> = {}
  if (values.force === true) out.graceful = false
  if (typeof values.timeout === "string") {
    const seconds = Number(values.timeout)
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
      throw new UsageError(`--timeout must be seconds between 0 and 3600, found "${values.timeout}"`, [
        "sam",
        name,
      ])
    out.timeout = seconds
  }
  return out
}

const describeUnit = (unit: Agent | Service): string =>
  `${unit.id} is ${unit.status}${unit.status === "running" ? (unit.ready ? " and ready" : " (not ready yet)") : ""}` +
  (unit.pid === null ? "" : `, pid ${unit.pid}`)

/** Run `name` on unit `id`; prints the unit's state after it. */
export const runLifecycle = async (
  api: SamApi,
  name: LifecycleName,
  id: string,
  payload: Record<string, unknown>,
) => {
  const units = await fetchUnits(api)
  const unit = units.find((u) => u.id === id)
  if (!unit) {
    const ids = units.map((u) => u.id)
    throw new ApiCallError(
      `no agent or service "${id}"${suggestionSuffix(id, ids, '"')}; \`sam ps\` lists them`,
      404,
    )
  }
  if (unit.kind === "service" && (name === "suspend" || name === "resume"))
    throw new ApiCallError(
      `"${id}" is a service; only agents can be suspended and resumed (use \`sam stop ${id}\`)`,
    )
  const path = `/api/${unit.kind === "agent" ? "agents" : "services"}/${encodeURIComponent(id)}/${name}`
  return api.call<Agent | Service>("POST", path, payload)
}

export const lifecycleRun =
  (name: LifecycleName) =>
  ({ values, positionals, io }: CommandContext): Promise<number> =>
    withApi(io, values, async (api) => {
      const payload = body(name, values)
      const unit = await runLifecycle(api, name, positionals[0]!, payload)
      io.stdout(`${describeUnit(unit)}\n`)
      return EXIT_OK
    })

const make = (
  name: LifecycleName,
  summary: string,
  options: Readonly<Record<string, OptionSpec>> = {},
): Command => ({
  name,
  summary,
  args: "<id>",
  description:
    `${summary}, through the running SAM's control API; waits until the command took effect.\n` +
    "Reaches SAM at SAM_URL, else where the config says (token: SAM_TOKEN, role operator or admin).",
  options: { ...apiOptions, ...options },
  positionals: { min: 1, max: 1 },
  run: lifecycleRun(name),
})

export const stopCommand = make("stop", "Stop an agent or service of the running SAM", stopOptions)
export const restartCommand = make("restart", "Restart an agent or service of the running SAM")
export const suspendCommand = make("suspend", "Suspend an agent of the running SAM (SIGSTOP)")
export const resumeCommand = make("resume", "Resume a suspended agent of the running SAM")
