// `sam start|stop|restart|suspend|resume <id>...` (or `all`) on units of the running SAM, through
// its control API. Each unit's kind is looked up first, so one command works for agents and
// services alike; several units are taken one at a time, dependencies first (stop and suspend:
// dependents first), and one refused does not keep the others from their command.

import type { ControlClient } from "../api/controlClient.ts"
import { ControlApiError } from "../api/controlClient.ts"
import type { Agent, Service } from "../api/schemas.ts"
import { stateInWords } from "../app/startOutcome.ts"
import { ApiCallError, withApi } from "./apiClient.ts"
import { type CommandContext, type CommandRun, EXIT_FAILURE, EXIT_OK, UsageError } from "./command.ts"
import { terminalSafe } from "./terminalSafe.ts"
import { fetchAgents, unknownUnits } from "./unitTable.ts"

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
      throw new UsageError(`--timeout must be seconds above 0 and at most 3600, found "${values.timeout}"`, [
        "sam",
        name,
      ])
    out.timeout = seconds
  }
  return out
}

/** "web is running and ready, pid 1"; one with nothing to check is running, not "ready". */
const describeUnit = (unit: Agent | Service): string => {
  const readiness = !unit.ready
    ? " (not ready yet)"
    : !unit.readiness_checked
      ? " (no readiness check)"
      : " and ready"
  return `${unit.id} is ${stateInWords(unit.status)}${unit.status === "running" ? readiness : ""}${unit.pid === null ? "" : `, pid ${unit.pid}`}`
}

/** A unit the command is for: its kind says which endpoint. */
interface Target {
  readonly id: string
  readonly kind: "agent" | "service"
}

/** Run `name` on `unit`; resolves with the unit's state after it. */
export const runLifecycle = async (
  client: ControlClient,
  name: LifecycleName,
  unit: Target,
  payload: Payload,
): Promise<Agent | Service> => {
  const params = { id: unit.id }
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

interface Known extends Target {
  readonly status: string
  readonly depends_on: ReadonlyArray<string>
  readonly per_instance: ReadonlyArray<{ readonly status: string }>
}

/** Whether any instance of `u` is in one of `states` (a unit's own status is its worst instance's). */
const anyIn = (u: Known, ...states: ReadonlyArray<string>): boolean =>
  states.includes(u.status) || u.per_instance.some((i) => states.includes(i.status))

/** What `all` takes: the units the command applies to now (an operator's stop is kept by restart). */
const allApplies: Record<LifecycleName, (unit: Known) => boolean> = {
  start: (u) => u.status !== "running" && u.status !== "starting",
  stop: (u) => u.status !== "stopped",
  // A unit of several instances one of which is in backoff still runs: `restart all` takes it.
  restart: (u) => anyIn(u, "running", "starting"),
  suspend: (u) => anyIn(u, "running"),
  resume: (u) => u.status === "suspended",
}

/**
 * `wanted` in dependency order (dependencies first, through units not wanted too); `reverse` for
 * stop and suspend. (src/graph would do it, but it brings effect into the CLI client's start-up.)
 */
const ordered = (units: ReadonlyArray<Known>, wanted: ReadonlySet<string>, reverse: boolean): Known[] => {
  const byId = new Map(units.map((u) => [u.id, u]))
  const out: Known[] = []
  const seen = new Set<string>()
  const visit = (id: string) => {
    const unit = byId.get(id)
    if (unit === undefined || seen.has(id)) return
    seen.add(id)
    for (const dependency of unit.depends_on) visit(dependency)
    if (wanted.has(id)) out.push(unit)
  }
  for (const id of wanted) visit(id)
  return reverse ? out.reverse() : out
}

/** The units `positionals` name (`all` alone: each the command applies to), in command order. */
const targetsOf = async (
  client: ControlClient,
  name: LifecycleName,
  positionals: ReadonlyArray<string>,
): Promise<Known[]> => {
  const [{ services }, agents] = await Promise.all([client.services.list(), fetchAgents(client)])
  const units: Known[] = [
    ...services.map((s) => ({ ...s, kind: "service" as const })),
    ...agents.map((a) => ({ ...a, kind: "agent" as const })),
  ]
  const ids = units.map((u) => u.id)
  // A unit named "all" is addressed by its name: the config's ids are the user's.
  const every = positionals.length === 1 && positionals[0] === "all" && !ids.includes("all")
  const wanted = every ? units.filter((u) => allApplies[name](u)).map((u) => u.id) : [...new Set(positionals)]
  const unknown = unknownUnits(wanted, ids)
  if (unknown !== undefined)
    throw new ApiCallError(wanted.length > 1 ? `${unknown} (nothing was done)` : unknown)
  return ordered(units, new Set(wanted), name === "stop" || name === "suspend")
}

/** The state each command leads to: a unit already in it is told so, and that is success. */
const already: Partial<Record<LifecycleName, string>> = {
  start: "running",
  stop: "stopped",
  suspend: "suspended",
  resume: "running",
}

/** A refusal of the command in the unit's state (409), with that state. */
const refusedIn = (error: unknown): string | undefined =>
  error instanceof ControlApiError && error.status === 409 ? String(error.problem?.state ?? "") : undefined

export const lifecycleRun =
  (name: LifecycleName): CommandRun =>
  ({ values, positionals, io }) =>
    withApi(io, values, async (client) => {
      const payload = payloadOf(name, values)
      const targets = await targetsOf(client, name, positionals)
      if (targets.length === 0) {
        io.stdout(`nothing to ${name}: no unit is in a state ${name} applies to (\`sam ps\` lists them)\n`)
        return EXIT_OK
      }
      let failed = 0
      for (const unit of targets) {
        try {
          const after = await runLifecycle(client, name, unit, payload)
          io.stdout(`${describeUnit(after)}\n`)
          // As `compose up --wait`: a start or restart that left the unit not serving fails (a job
          // that ran and exited 0 is done, not failed), so `sam restart x && run-tests` is safe.
          if (
            (name === "start" || name === "restart") &&
            !(after.status === "running" && after.ready) &&
            !after.completed
          ) {
            failed++
            // Running but unready: its own reason would only say it was spawned.
            const why = after.status === "running" ? "its readiness check has not passed" : after.reason
            io.stderr(`sam: ${unit.id} did not become ready${why === "" ? "" : `: ${terminalSafe(why)}`}\n`)
          }
          // A start that came while it stopped (queued, LIFECYCLE.md) undid it: a script that
          // stops a unit must not be told it is down when it runs.
          if (name === "stop" && after.status !== "stopped") {
            failed++
            io.stderr(`sam: ${unit.id} is ${after.status} again: a start came while it was stopping\n`)
          }
        } catch (error) {
          // Refused in its state: "already" where the command leads is no failure; any other
          // refusal (a dependency down) is told and the rest go on. Everything else ends the run.
          const state = refusedIn(error)
          if (state === undefined) throw error
          if (state === already[name]) io.stdout(`${unit.id} is ${state} already\n`)
          else {
            failed++
            io.stderr(`sam: ${(error as Error).message}\n`)
          }
        }
      }
      return failed === 0 ? EXIT_OK : EXIT_FAILURE
    })
