// The dashboard's state and the pure steps that change it: a snapshot replaces the units, a
// transition moves one at once (its full view follows from the API), usage samples grow the
// sparklines, events become timeline lines. live.ts feeds it; components read it with useStore.
import { instanceLabel, runsSeveral } from "../../api/instanceLabel.ts"
import { alertSummary } from "../../runtime/alertSummary.ts"
import { reloadSummary } from "../../runtime/reloadSummary.ts"
import type {
  Alert,
  Connection,
  Crash,
  CrashDetail,
  Features,
  Notice,
  Session,
  TimelineEntry,
  Unit,
} from "./types.ts"

/** How far back the sparklines reach: the metrics history's points (5 s apart), then live samples (2 s). */
export const sparkWindowMs = 5 * 60 * 1000

/** [time (epoch ms), value], as GET /api/<kind>/:id/metrics has them. */
export type Point = readonly [number, number]

export interface Series {
  readonly cpu: ReadonlyArray<Point>
  readonly memory: ReadonlyArray<Point>
  /**
   * Requests per second: gateway requests of a service the gateway routes, capability invocations
   * of an agent (empty for the other services).
   */
  readonly requests: ReadonlyArray<Point>
}

const noSeries: Series = { cpu: [], memory: [], requests: [] }

const timelineLength = 200

/** `points` without those older than the window before the newest. */
const recent = (points: ReadonlyArray<Point>): ReadonlyArray<Point> => {
  const newest = points.at(-1)?.[0] ?? 0
  const from = points.findIndex(([t]) => t >= newest - sparkWindowMs)
  return from <= 0 ? points : points.slice(from)
}

export interface State {
  readonly connection: Connection
  /** Why the connection is not live, when it is not. */
  readonly connectionDetail: string
  readonly session: Session | undefined
  readonly features: Features
  /** By id, in the order the snapshot listed them (services, then agents). */
  readonly units: ReadonlyMap<string, Unit>
  /** Each unit id and the ids it depends on (GET /api/services `dependencies`). */
  readonly dependencies: Readonly<Record<string, ReadonlyArray<string>>>
  readonly usage: ReadonlyMap<string, Series>
  /** Newest first. */
  readonly timeline: ReadonlyArray<TimelineEntry>
  readonly crashes: ReadonlyArray<Crash>
  readonly crashDetails: ReadonlyMap<number, CrashDetail>
  readonly alerts: ReadonlyArray<Alert>
  readonly notices: ReadonlyArray<Notice>
  /** The unit whose log the log panel follows. */
  readonly selected: string | undefined
  /** Commands waiting for their answer, as `unit:command`. */
  readonly pending: ReadonlySet<string>
}

export const initialState: State = {
  connection: "connecting",
  connectionDetail: "",
  session: undefined,
  features: { scale: false, alerts: false, metrics: false },
  units: new Map(),
  dependencies: {},
  usage: new Map(),
  timeline: [],
  crashes: [],
  crashDetails: new Map(),
  alerts: [],
  notices: [],
  selected: undefined,
  pending: new Set(),
}

type Raw = Record<string, unknown>
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)

/** The unit id of an event's `unit` (`api#2` is instance 2 of `api`). */
export const unitOf = (event: Raw): string | undefined => text(event.unit)?.split("#")[0]

/** Whether `unit` may run several instances (its instance 0 is then `web#0`, as `sam ps` lists it). */
export const severalOf =
  (units: ReadonlyMap<string, Unit>) =>
  (unit: string): boolean => {
    const view = units.get(unit)
    return view !== undefined && runsSeveral(view)
  }

/**
 * A timeline line for a SAM event, or undefined for events the timeline leaves out. `several`
 * says which units may run several instances (they are named `web#0`, `web#1`).
 */
export const timelineEntry = (
  event: Raw,
  several: (unit: string) => boolean = () => false,
): TimelineEntry | undefined => {
  const type = text(event.type) ?? ""
  const id = typeof event.id === "number" ? event.id : 0
  const at = text(event.at) ?? new Date().toISOString()
  const unit = unitOf(event)
  const index = typeof event.instance === "number" ? event.instance : undefined
  const instance =
    unit === undefined || index === undefined
      ? ""
      : instanceLabel(unit, index, several(unit)).slice(unit.length)
  switch (type) {
    case "transition": {
      const to = text(event.to) ?? "?"
      const reason = text(event.reason)
      return {
        id,
        at,
        type,
        unit,
        to,
        text: `${unit}${instance} ${text(event.from) ?? "?"} → ${to}${reason ? `: ${reason}` : ""}`,
      }
    }
    case "supervisor":
      return {
        id,
        at,
        type,
        unit,
        text: `${text(event.action) ?? "supervisor"}: ${text(event.detail) ?? ""}`,
      }
    case "crash.reported":
      return { id, at, type, unit, text: `${unit}${instance} crash report #${String(event.crash_id ?? "?")}` }
    case "health":
      return {
        id,
        at,
        type,
        unit,
        text: `${unit}${instance} health ${event.ok ? "ok" : "failing"} (${text(event.probe) ?? "probe"}): ${text(event.detail) ?? ""}`,
      }
    case "config.reloaded":
      return { id, at, type, unit: undefined, text: reloadSummary(event) }
    case "config.invalid":
      return { id, at, type, unit: undefined, text: `config invalid: ${text(event.message) ?? ""}` }
    default:
      if (type.startsWith("alert.")) return { id, at, type, unit, text: alertSummary(event) }
      return undefined
  }
}

const withEntry = (timeline: ReadonlyArray<TimelineEntry>, entry: TimelineEntry | undefined) =>
  entry === undefined ? timeline : [entry, ...timeline].slice(0, timelineLength)

const unitsOf = (snapshot: Raw, now: number): Map<string, Unit> => {
  const units = new Map<string, Unit>()
  for (const service of (snapshot.services as Raw[] | undefined) ?? [])
    units.set(String(service.id), { ...(service as object), kind: "service", readAt: now } as Unit)
  for (const agent of (snapshot.agents as Raw[] | undefined) ?? [])
    units.set(String(agent.id), { ...(agent as object), kind: "agent", readAt: now } as Unit)
  return units
}

/** A snapshot: every unit as of now, and the recent events as the timeline. */
export const applySnapshot = (state: State, snapshot: Raw, now: number): State => {
  const units = unitsOf(snapshot, now)
  const recent = ((snapshot.recent as Raw[] | undefined) ?? []).map((e) => timelineEntry(e, severalOf(units)))
  const timeline = recent
    .filter((e): e is TimelineEntry => e !== undefined)
    .reverse()
    .slice(0, timelineLength)
  const usage = new Map([...state.usage].filter(([id]) => units.has(id)))
  const selected =
    state.selected !== undefined && units.has(state.selected) ? state.selected : units.keys().next().value
  return {
    ...state,
    connection: "live",
    connectionDetail: "",
    units,
    usage,
    timeline: timeline.length > 0 ? timeline : state.timeline,
    selected,
  }
}

/**
 * A transition moves the unit at once (instance 0 carries the pid); of a unit of several, only
 * the instance's row (the unit's state is its worst instance's: the API's view follows).
 */
export const applyTransition = (state: State, event: Raw): State => {
  const id = unitOf(event)
  const unit = id === undefined ? undefined : state.units.get(id)
  const timeline = withEntry(state.timeline, timelineEntry(event, severalOf(state.units)))
  if (unit === undefined || id === undefined) return { ...state, timeline }
  const to = text(event.to) ?? unit.status
  const [base] = to.split(".")
  const units = new Map(state.units)
  const moved =
    unit.instances <= 1
      ? {
          ...unit,
          status: base as Unit["status"],
          ready: to === "running.ready",
          reason: text(event.reason) ?? unit.reason,
          ...(event.instance === 0 && typeof event.pid === "number" ? { pid: event.pid } : {}),
          ...(base === "stopped" || base === "crashed" ? { pid: null } : {}),
        }
      : { ...unit, per_instance: movedInstance(unit.per_instance ?? [], event, to) }
  units.set(id, moved as Unit)
  return { ...state, units, timeline }
}

/** The instance an event names, moved to `to` (its pid when it brings one); the others as they were. */
const movedInstance = (each: Unit["per_instance"], event: Raw, to: string): Unit["per_instance"] => {
  const [base] = to.split(".")
  return each.map((i) =>
    i.instance !== event.instance
      ? i
      : {
          ...i,
          status: base as Unit["status"],
          ready: to === "running.ready",
          reason: text(event.reason) ?? i.reason,
          ...(typeof event.pid === "number" ? { pid: event.pid } : {}),
          ...(base === "stopped" || base === "crashed" || base === "backoff" ? { pid: null, uptime: 0 } : {}),
        },
  )
}

/** The API's view of one unit, read just now. */
export const applyUnitView = (state: State, unit: Unit): State => {
  const units = new Map(state.units)
  units.set(unit.id, unit)
  return { ...state, units }
}

/**
 * A `usage` sample: each unit's CPU and memory appended to its sparklines, and the request rate of
 * each service the gateway routes and each agent (the sample's `requests_per_second`).
 */
export const applyUsage = (state: State, sample: Raw, now = Date.now()): State => {
  const at = typeof sample.at === "string" ? Date.parse(sample.at) : Number.NaN
  const t = Number.isFinite(at) ? at : now
  const usage = new Map(state.usage)
  for (const entry of (sample.units as Raw[] | undefined) ?? []) {
    const id = String(entry.id)
    const before = usage.get(id) ?? noSeries
    // A unit with nothing running has no sample: its lines pause rather than drop to zero. Its
    // requests go on (the gateway answers them, 503 while nothing serves).
    const measured = typeof entry.cpu_percent === "number" && typeof entry.memory_bytes === "number"
    const rate = typeof entry.requests_per_second === "number" ? entry.requests_per_second : undefined
    if (!measured && rate === undefined) continue
    usage.set(id, {
      cpu: measured ? recent([...before.cpu, [t, entry.cpu_percent as number]]) : before.cpu,
      memory: measured ? recent([...before.memory, [t, entry.memory_bytes as number]]) : before.memory,
      requests: rate === undefined ? before.requests : recent([...before.requests, [t, rate]]),
    })
  }
  const units = new Map(state.units)
  for (const entry of (sample.units as Raw[] | undefined) ?? []) {
    const unit = units.get(String(entry.id))
    if (unit)
      units.set(unit.id, {
        ...unit,
        cpu_percent: typeof entry.cpu_percent === "number" ? entry.cpu_percent : null,
        memory_bytes: typeof entry.memory_bytes === "number" ? entry.memory_bytes : null,
      })
  }
  return { ...state, usage, units }
}

/**
 * Seed a unit's sparklines from its metrics history (oldest first; `requests`: its
 * `requests_per_second`); live samples after it stay.
 */
export const applyHistory = (
  state: State,
  id: string,
  cpu: ReadonlyArray<Point>,
  memory: ReadonlyArray<Point>,
  requests: ReadonlyArray<Point> = [],
): State => {
  const usage = new Map(state.usage)
  const live = usage.get(id) ?? noSeries
  const merge = (history: ReadonlyArray<Point>, samples: ReadonlyArray<Point>) => {
    const last = history.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY
    return recent([...history, ...samples.filter(([t]) => t > last)])
  }
  usage.set(id, {
    cpu: merge(cpu, live.cpu),
    memory: merge(memory, live.memory),
    requests: merge(requests, live.requests),
  })
  return { ...state, usage }
}

export const applyEvent = (state: State, event: Raw): State => ({
  ...state,
  timeline: withEntry(state.timeline, timelineEntry(event, severalOf(state.units))),
})

export const withNotice = (state: State, notice: Omit<Notice, "id">): State => ({
  ...state,
  notices: [
    { ...notice, id: Date.now() + Math.random() },
    ...state.notices.filter((n) => n.unit !== notice.unit),
  ].slice(0, 5),
})

/** A tiny observable holder of State: set() replaces it and tells every subscriber. */
export class Store {
  private current: State
  private readonly listeners = new Set<() => void>()
  constructor(state: State = initialState) {
    this.current = state
  }
  get state(): State {
    return this.current
  }
  update(step: (state: State) => State): void {
    const next = step(this.current)
    if (next === this.current) return
    this.current = next
    for (const listener of this.listeners) listener()
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}
