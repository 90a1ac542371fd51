// `sam start|stop|restart|suspend|resume <id>...` (or `all`) on units of the running SAM, through
// its control API. Each unit's kind is looked up first, so one command works for agents and
// services alike; several units are taken one at a time, dependencies first (stop and suspend:
// dependents first), and one refused does not keep the others from their command.
import type { ControlClient } from "../api/controlClient.ts"
import { ControlApiError } from "../api/controlClient.ts"
import type { Agent, Service } from "../api/schemas.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandContext, type CommandRun, EXIT_FAILURE, EXIT_OK, UsageError } from "./command.ts"
import { fetchAgents, fetchUnits } from "./unitTable.ts"

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

interface Known {
  readonly id: string
  readonly status: string
  readonly depends_on: ReadonlyArray<string>
}

/** What `all` takes: the units the command applies to now (an operator's stop is kept by restart). */
const allApplies: Record<LifecycleName, (unit: Known) => boolean> = {
  start: (u) => u.status !== "running" && u.status !== "starting",
  stop: (u) => u.status !== "stopped",
  restart: (u) => u.status === "running" || u.status === "starting",
  suspend: (u) => u.status === "running",
  resume: (u) => u.status === "suspended",
}

/** `ids` in dependency order (dependencies first); `reverse` for stop and suspend. */
const ordered = (units: ReadonlyArray<Known>, ids: ReadonlyArray<string>, reverse: boolean): string[] => {
  const byId = new Map(units.map((u) => [u.id, u]))
  const wanted = new Set(ids)
  const out: string[] = []
  const seen = new Set<string>()
  const visit = (id: string) => {
    if (seen.has(id)) return
    seen.add(id)
    for (const dependency of byId.get(id)?.depends_on ?? []) if (wanted.has(dependency)) visit(dependency)
    out.push(id)
  }
  for (const id of ids) visit(id)
  return reverse ? out.reverse() : out
}

/** The units `positionals` name (`all` alone: each the command applies to), in command order. */
const targetsOf = async (
  client: ControlClient,
  name: LifecycleName,
  positionals: ReadonlyArray<string>,
): Promise<string[]> => {
  const [{ services }, agents] = await Promise.all([client.services.list(), fetchAgents(client)])
  const units: Known[] = [...services, ...agents]
  const ids = units.map((u) => u.id)
  // A unit named "all" is addressed by its name: the config's ids are the user's.
  const every = positionals.length === 1 && positionals[0] === "all" && !ids.includes("all")
  const wanted = every ? units.filter((u) => allApplies[name](u)).map((u) => u.id) : [...new Set(positionals)]
  const unknown = wanted.filter((id) => !ids.includes(id))
  if (unknown.length > 0)
    throw new ApiCallError(
      unknown.map((id) => `no agent or service "${id}"${suggestionSuffix(id, ids, '"')}`).join("; ") +
        "; `sam ps` lists them (nothing was done)",
    )
  return ordered(units, wanted, name === "stop" || name === "suspend")
}

/** The state each command leads to: a unit already in it is told so, and that is success. */
const already: Partial<Record<LifecycleName, string>> = {
  start: "running",
  stop: "stopped",
  suspend: "suspended",
  resume: "running",
}

/** Run `name` on `id` and say the unit's state; a unit already where the command leads is no failure. */
const runOne = async (
  client: ControlClient,
  io: CommandContext["io"],
  name: LifecycleName,
  id: string,
  payload: Payload,
): Promise<void> => {
  try {
    io.stdout(`${describeUnit(await runLifecycle(client, name, id, payload))}\n`)
  } catch (error) {
    const state = error instanceof ControlApiError && error.status === 409 ? error.problem?.state : undefined
    if (state === undefined || state !== already[name]) throw error
    io.stdout(`${id} is ${state} already\n`)
  }
}

export const lifecycleRun =
  (name: LifecycleName): CommandRun =>
  ({ values, positionals, io }) =>
    withApi(io, values, async (client) => {
      const payload = payloadOf(name, values)
      if (positionals.length === 1 && positionals[0] !== "all") {
        await runOne(client, io, name, positionals[0] as string, payload)
        return EXIT_OK
      }
      const targets = await targetsOf(client, name, positionals)
      if (targets.length === 0) {
        io.stdout(`nothing to ${name}: no unit is in a state ${name} applies to (\`sam ps\` lists them)\n`)
        return EXIT_OK
      }
      let failed = 0
      for (const id of targets) {
        try {
          await runOne(client, io, name, id, payload)
        } catch (error) {
          // One unit refused (already stopped, a dependency down): say it and go on with the rest.
          if (!(error instanceof ControlApiError) || error.status === undefined) throw error
          failed++
          io.stderr(`sam: ${error.message}\n`)
        }
      }
      return failed === 0 ? EXIT_OK : EXIT_FAILURE
    })
