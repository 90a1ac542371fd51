// `sam start|stop|restart|suspend|resume <id>` on a unit of the running SAM, through its control
// API. The unit's kind is looked up first, so one command works for agents and services alike.
import type { ControlClient } from "../api/controlClient.ts"
import type { Agent, Service } from "../api/schemas.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandContext, type CommandRun, EXIT_OK, UsageError } from "./command.ts"
import { fetchUnits } from "./unitTable.ts"

export type LifecycleName = "start" | "stop" | "restart" | "suspend" | "resume"

interface Payload {
  force?: boolean
  graceful?: boolean
  timeout?: number
}

const payloadOf = (name: LifecycleName, values: CommandContext["values"]): Payload => {
  if (name === "start") return values.force === true ? { force: true } : {}
  const out: Payload = {}
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

/** Run `name` on unit `id`; resolves with the unit's state after it. */
export const runLifecycle = async (
  client: ControlClient,
  name: LifecycleName,
  id: string,
  payload: Payload,
): Promise<Agent | Service> => {
  const units = await fetchUnits(client)
  const unit = units.find((u) => u.id === id)
  if (!unit) {
    const ids = units.map((u) => u.id)
    throw new ApiCallError(
      `no agent or service "${id}"${suggestionSuffix(id, ids, '"')}; \`sam ps\` lists them`,
    )
  }
  const params = { id }
  if (unit.kind === "agent") {
    const { force, graceful, timeout } = payload
    return name === "start"
      ? client.agents.start({ params, payload: force === undefined ? {} : { force } })
      : client.agents[name]({
          params,
          payload: {
            ...(graceful === undefined ? {} : { graceful }),
            ...(timeout === undefined ? {} : { timeout }),
          },
        })
  }
  if (name === "suspend" || name === "resume") return client.services[name]({ params })
  const { graceful, timeout } = payload
  return client.services[name]({
    params,
    payload: {
      ...(graceful === undefined ? {} : { graceful }),
      ...(timeout === undefined ? {} : { timeout }),
    },
  })
}

export const lifecycleRun =
  (name: LifecycleName): CommandRun =>
  ({ values, positionals, io }) =>
    withApi(io, values, async (client) => {
      const payload = payloadOf(name, values)
      const unit = await runLifecycle(client, name, positionals[0]!, payload)
      io.stdout(`${describeUnit(unit)}\n`)
      return EXIT_OK
    })
