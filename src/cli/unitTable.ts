// The `sam ps` / `sam status` table of units and how its cells read (1h02m, 12.4 MB, 0.3%).
import type { ControlClient } from "../api/controlClient.ts"
import { degradedOf, degradedText } from "../api/degraded.ts"
import { instanceLabel, runsSeveral } from "../api/instanceLabel.ts"
import type { Agent, InstanceView, Service } from "../api/schemas.ts"
import { suggestionSuffix } from "../config/suggest.ts"
import { terminalSafe } from "./terminalSafe.ts"

/** What to say about the `ids` SAM does not run (each with a did-you-mean); undefined when it runs all. */
export const unknownUnits = (
  ids: ReadonlyArray<string>,
  known: ReadonlyArray<string>,
): string | undefined => {
  const unknown = ids.filter((id) => !known.includes(id))
  if (unknown.length === 0) return undefined
  const each = unknown.map((id) => `no agent or service "${id}"${suggestionSuffix(id, known)}`)
  return `${each.join("; ")}; \`sam ps\` lists them`
}

export interface UnitRow {
  readonly id: string
  readonly kind: "agent" | "service"
  readonly runtime: string
  readonly state: string
  readonly ready: boolean
  /** Its instances (a scaled service has several). */
  readonly instances: number
  readonly restarts: number
  /** Seconds. */
  readonly uptime: number
  readonly pid: number | null
  readonly cpu_percent: number | null
  readonly memory_bytes: number | null
  /** Why it is in its state (the API's `reason`). */
  readonly reason: string
  /** When a unit in backoff or retrying while crashed tries again (ISO), else null. */
  readonly next_attempt_at: string | null
  /** Why its last config change stopped rolling out (the API's `rollout_halted`), else null. */
  readonly rollout_halted: string | null
  /** Why its watching is paused (the API's `watch_paused`), else null. */
  readonly watch_paused: string | null
  /** An operator's kept scale away from the config's count (the API's `scaled`), else null. */
  readonly scaled: string | null
  /** A service's gateway breaker (the API's `gateway.breaker`), else null. */
  readonly breaker: NonNullable<Service["gateway"]>["breaker"]
  /** Each instance (the API's `per_instance`): a unit of several gets a row for each. */
  readonly per_instance: ReadonlyArray<InstanceView>
  /** It may run more than one instance: they are named `web#0`, `web#1` (instanceLabel.ts). */
  readonly several: boolean
  /** It serves while some of its instances are down (the API's `degraded`), else null. */
  readonly degraded: Agent["degraded"]
}

const row = (kind: "agent" | "service", u: Agent | Service): UnitRow => ({
  id: u.id,
  kind,
  runtime: u.runtime,
  // A job done reads as Compose's `Exited (0)` does, not as a unit someone stopped.
  state: u.completed ? "completed" : u.status,
  ready: u.ready,
  instances: u.instances,
  restarts: u.restarts,
  uptime: u.uptime,
  pid: u.pid,
  cpu_percent: u.cpu_percent,
  memory_bytes: u.memory_bytes,
  next_attempt_at: u.next_attempt_at,
  reason: u.reason,
  rollout_halted: u.rollout_halted,
  watch_paused: u.watch_paused,
  scaled: u.scaled,
  breaker: "gateway" in u ? (u.gateway?.breaker ?? null) : null,
  per_instance: u.per_instance,
  degraded: u.degraded,
  several: runsSeveral({ ...u, max_instances: "max_instances" in u ? u.max_instances : undefined }),
})

export const fetchAgents = async (client: ControlClient): Promise<Agent[]> => {
  const agents: Agent[] = []
  for (let page = 1; ; page++) {
    const result = await client.agents.list({ query: { page, pageSize: 500 } })
    agents.push(...result.agents)
    if (agents.length >= result.total || result.agents.length === 0) return agents
  }
}

/** Every unit of the running SAM: services first (they start first), then agents. */
export const fetchUnits = async (client: ControlClient): Promise<UnitRow[]> => {
  const [{ services }, agents] = await Promise.all([client.services.list(), fetchAgents(client)])
  return [...services.map((s) => row("service", s)), ...agents.map((a) => row("agent", a))]
}

export const formatUptime = (seconds: number): string => {
  if (seconds <= 0) return "-"
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`
}

export const formatBytes = (bytes: number | null): string => {
  if (bytes === null) return "-"
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`
}

const columns = [
  "ID",
  "KIND",
  "RUNTIME",
  "STATE",
  "READY",
  "INST",
  "RESTARTS",
  "UPTIME",
  "PID",
  "PORT",
  "CPU",
  "MEM",
] as const

/** "crashed, retry in 4m59s": when the next attempt of a unit that is down is due. */
const stateText = (state: string, nextAttemptAt: string | null, now: number): string => {
  if (nextAttemptAt === null) return state
  const seconds = Math.max(0, (Date.parse(nextAttemptAt) - now) / 1000)
  return `${state}, retry in ${seconds < 1 ? "<1s" : formatUptime(seconds)}`
}

/** The columns from STATE on, for a unit or one of its instances. */
type Measured = Pick<UnitRow, "ready" | "restarts" | "uptime" | "pid" | "cpu_percent" | "memory_bytes">

/** "yes", "no", or for a unit of several instances some of which serve, how many: "1/2" (as kubectl). */
const readyText = (r: Measured & { readonly per_instance?: ReadonlyArray<InstanceView> }): string => {
  if (r.ready) return "yes"
  const each = r.per_instance ?? []
  const serving = each.filter((i) => i.ready).length
  return each.length > 1 && serving > 0 ? `${serving}/${each.length}` : "no"
}

const measuredCells = (
  r: Measured & { readonly per_instance?: ReadonlyArray<InstanceView> },
  state: string,
  inst: string,
  port: number | null,
): string[] => [
  state,
  readyText(r),
  inst,
  String(r.restarts),
  formatUptime(r.uptime),
  r.pid === null ? "-" : String(r.pid),
  port === null ? "-" : String(port),
  r.cpu_percent === null ? "-" : `${r.cpu_percent.toFixed(1)}%`,
  formatBytes(r.memory_bytes),
]

/** States whose reason is printed under the table. */
const downStates = new Set(["error", "crashed", "backoff"])

/**
 * A unit of several instances that serves while some are down reads "degraded (1 of 2 in
 * backoff)" (degraded.ts, as the dashboard's card), not its worst instance's state: the instance
 * rows under it say which and when.
 */
const unitStateText = (r: UnitRow, now: number): string => {
  const degraded = degradedOf({ status: r.state, per_instance: r.per_instance })
  return degraded === undefined
    ? stateText(r.state, r.next_attempt_at, now)
    : `degraded (${degradedText(degraded)})`
}

const cells = (r: UnitRow, now: number): string[] => [
  r.id,
  r.kind,
  r.runtime,
  // A unit's port is its instance's when it has one; several are on their own rows.
  ...measuredCells(
    r,
    unitStateText(r, now),
    String(r.instances),
    r.per_instance.length === 1 ? (r.per_instance[0]?.port ?? null) : null,
  ),
]

/** A unit of several instances, any of them not stopped: a row for each, under the unit's, as PM2 lists them. */
const instanceRows = (r: UnitRow, now: number): string[][] =>
  r.per_instance.length < 2 || r.per_instance.every((i) => i.status === "stopped")
    ? []
    : r.per_instance.map((i) => [
        `  ${r.id}#${i.instance}`,
        "",
        "",
        ...measuredCells(i, stateText(i.status, i.next_attempt_at, now), "", i.port),
      ])

/** Stopped but waiting for its dependencies: its reason says for what. */
const waitingReason = /^waiting for /

/** Stopped after a failure its restart policy does not restart: the reason says what failed. */
const notRestarted = /; not restarted: /

/**
 * Whether a unit or an instance gets a line under the table saying why it is down: failing,
 * waiting, left stopped after a failure, or running but not ready (a failing check).
 */
const explained = (state: string, ready: boolean, reason: string): boolean =>
  reason !== "" &&
  (downStates.has(state) ||
    waitingReason.test(reason) ||
    (state === "stopped" && notRestarted.test(reason)) ||
    (state === "running" && !ready))

/**
 * Why a unit is down, or for a unit of several instances why each one that is down is: named as
 * its row and `sam crashes` name it (`web#1`), those down for the same reason on one line.
 */
const downNotes = (r: UnitRow): string[] => {
  if (r.state === "completed") return []
  if (!r.several || r.per_instance.length === 0)
    return explained(r.state, r.ready, r.reason) ? [`${r.id}: ${terminalSafe(r.reason)}`] : []
  const byReason = new Map<string, string[]>()
  for (const i of r.per_instance)
    if (explained(i.status, i.ready, i.reason))
      byReason.set(i.reason, [...(byReason.get(i.reason) ?? []), instanceLabel(r.id, i.instance, true)])
  return [...byReason].map(([reason, names]) => `${names.join(", ")}: ${terminalSafe(reason)}`)
}

const clockTime = (iso: string) => new Date(iso).toTimeString().slice(0, 8)

/** What to say of a breaker that is not closed: since when, why, until when requests get 503. */
const breakerNote = (breaker: UnitRow["breaker"]): string | undefined => {
  if (breaker === null || breaker.state === "closed") return undefined
  const why = breaker.reason === null ? "" : `: ${terminalSafe(breaker.reason)}`
  if (breaker.state === "open")
    return (
      `gateway breaker open since ${clockTime(breaker.since)}${why}; ` +
      `the gateway answers its requests with 503${breaker.until === null ? "" : ` until ${clockTime(breaker.until)}`}, then lets probe calls through`
    )
  return `gateway breaker half-open since ${clockTime(breaker.since)}${why}; a few probe calls pass (the rest get 503) and close it or open it again`
}

/** A plain aligned table (no colours: it is read by people and by grep alike). */
export const formatTable = (rows: ReadonlyArray<UnitRow>, now = Date.now()): string => {
  if (rows.length === 0) return "no agents or services configured\n"
  const body = rows.flatMap((r) => [cells(r, now), ...instanceRows(r, now)])
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  // Why the units that are down are down, under the table (a column would be most of its width).
  const why = rows.flatMap(downNotes)
  // A halted rollout: which instance failed the new config, which still run the old one.
  for (const r of rows) if (r.rollout_halted !== null) why.push(`${r.id}: ${r.rollout_halted}`)
  for (const r of rows) if (r.watch_paused !== null) why.push(`${r.id}: ${r.watch_paused}`)
  for (const r of rows) if (r.scaled !== null) why.push(`${r.id}: ${r.scaled}`)
  for (const r of rows) {
    const note = breakerNote(r.breaker)
    if (note !== undefined) why.push(`${r.id}: ${note}`)
  }
  return `${[line(columns), ...body.map(line)].join("\n")}\n${why.length > 0 ? `\n${why.join("\n")}\n` : ""}`
}
