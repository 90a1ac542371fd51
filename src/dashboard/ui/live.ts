// Keeps the store live: one event stream (GET /api/events with usage samples and recent events),
// and on what it says, one-off reads of what changed: a unit's full view after its transitions,
// crash reports after crash.reported, alerts after alert.*, every unit after a config reload.
// Reads are coalesced per subject, so a burst of events costs one request. No polling.
import { ApiProblem, call, get, getIfThere, unitPath } from "./api.ts"
import { openStream, type Stream } from "./sse.ts"
import {
  applyEvent,
  applyHistory,
  applySnapshot,
  applyTransition,
  applyUnitView,
  applyUsage,
  type Point,
  type Store,
  unitOf,
  withNotice,
} from "./store.ts"
import type {
  Alert,
  Crash,
  CrashDetail,
  Features,
  LifecycleCommand,
  Session,
  Unit,
  UnitKind,
} from "./types.ts"

type Raw = Record<string, unknown>

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

/** Crash reports whose last lines the page shows without a click. */
const detailedCrashes = 4

/**
 * Runs `read` for `key` now, or once more after the run in flight when asked again meanwhile;
 * a failure goes to `failed`.
 */
const coalescer = (failed: (key: string, error: unknown) => void) => {
  const running = new Map<string, boolean>()
  return (key: string, read: () => Promise<void>) => {
    if (running.has(key)) {
      running.set(key, true)
      return
    }
    running.set(key, false)
    const run = (): Promise<void> =>
      read()
        .catch((error: unknown) => failed(key, error))
        .then(() => {
          if (running.get(key)) {
            running.set(key, false)
            return run()
          }
          running.delete(key)
        })
    void run()
  }
}

const record = (v: unknown): Record<string, string> =>
  typeof v === "object" && v !== null ? (v as Record<string, string>) : {}
const textOf = (...values: unknown[]): string | undefined =>
  values.find((v): v is string => typeof v === "string" && v !== "")

/**
 * An alert from GET /api/alerts (`rule, unit, state, started_at, labels, annotations`) or from an
 * `alert.firing` event (`rule, unit, severity, summary, starts_at`): one per rule and unit.
 */
export const asAlert = (raw: Raw): Alert => {
  const labels = record(raw.labels)
  const annotations = record(raw.annotations)
  const name = textOf(raw.rule, labels.alertname) ?? "alert"
  const unit = textOf(raw.unit, labels.unit)
  return {
    key: `${name}:${unit ?? ""}`,
    name,
    unit,
    severity: textOf(raw.severity, labels.severity),
    detail: textOf(raw.summary, annotations.summary, raw.description, annotations.description) ?? "",
    since: textOf(raw.started_at, raw.starts_at),
  }
}

/** The alerts firing now, from GET /api/alerts (pending ones have not fired yet). */
export const firingAlerts = (list: { readonly active?: ReadonlyArray<Raw> } | undefined): Alert[] =>
  (list?.active ?? []).filter((a) => a.state === "firing").map(asAlert)

/** Which optional endpoints this SAM serves, from its OpenAPI document (which needs no session). */
const readFeatures = async (): Promise<Features> => {
  const document = await get<{ paths?: Record<string, unknown> }>("/api/openapi.json")
  const paths = new Set(Object.keys(document.paths ?? {}))
  return {
    scale: paths.has("/api/services/{id}/scale"),
    alerts: paths.has("/api/alerts"),
    metrics: paths.has("/api/services/{id}/metrics"),
  }
}

type Metrics = { series?: Record<string, ReadonlyArray<Point>> }

export class Live {
  private stream: Stream | undefined
  private readonly once = coalescer((key, error) => this.readFailed(key, error))
  /** Whether a read that could not reach SAM was logged since the stream was last live. */
  private unreachableTold = false
  /** Units whose metrics history has been asked for (see readHistories). */
  private readonly historiesRead = new Set<string>()
  /**
   * Units a reload is removing (their stop's reason says so): not read one by one any more, as
   * SAM may drop them before the read arrives (a 404 the console would show); the reload's own
   * event reads every unit again.
   */
  private readonly removing = new Set<string>()
  private readonly store: Store

  constructor(store: Store) {
    this.store = store
  }

  start(): void {
    this.stream = openStream({
      url: "/api/events?usage=true&recent=100",
      onMessage: (event, data, id) => this.onMessage(event, (data ?? {}) as Raw, id),
      onState: (state, detail) =>
        this.store.update((s) => {
          if (state === "unauthorized") {
            // SAM no longer knows this session (it expired, or its token was changed): the sign-in
            // form, which shows nothing of SAM, replaces the page and its now stale state.
            window.location.replace("/")
            return { ...s, connection: "signed-out", connectionDetail: detail }
          }
          if (state === "retrying") return { ...s, connection: "reconnecting", connectionDetail: detail }
          return s
        }),
    })
  }

  close(): void {
    this.stream?.close()
  }

  /**
   * Sign out (DELETE /api/session: SAM forgets the session and clears its cookie), then the
   * sign-in form. The stream is closed first, so its end is not taken for a lost connection.
   */
  async signOut(): Promise<void> {
    this.close()
    try {
      await call("DELETE", "/api/session")
    } catch (error) {
      // A session SAM no longer knows is signed out already; anything else is said, then the form.
      if (!(error instanceof ApiProblem && error.status === 401))
        console.warn("dashboard: signing out failed:", error instanceof Error ? error.message : error)
    }
    this.store.update((s) => ({ ...s, connection: "signed-out", connectionDetail: "signed out" }))
    window.location.replace("/")
  }

  /**
   * A read that failed. One that could not reach SAM at all (it is down or restarting: the stream
   * reconnects and a snapshot brings everything back) is logged once until the stream is live
   * again, not once per read; SAM's own refusals (problems) each.
   */
  private readFailed(key: string, error: unknown): void {
    if (error instanceof ApiProblem) {
      console.warn(`dashboard: reading ${key} failed: ${error.message}`)
      return
    }
    if (this.unreachableTold) return
    this.unreachableTold = true
    console.warn(
      `dashboard: SAM is not reachable (${error instanceof Error ? error.message : String(error)}); ` +
        "reads wait for the event stream to reconnect",
    )
  }

  private onMessage(event: string, data: Raw, _id: string | undefined): void {
    switch (event) {
      case "snapshot":
        this.unreachableTold = false
        this.store.update((s) => applySnapshot(s, data, Date.now()))
        this.readEverythingElse()
        return
      case "usage":
        this.store.update((s) => applyUsage(s, data))
        return
      case "transition": {
        this.store.update((s) => applyTransition(s, data))
        const id = unitOf(data)
        const reason = (data as { reason?: unknown }).reason
        if (id !== undefined && typeof reason === "string" && reason.startsWith("removed from the config"))
          this.removing.add(id)
        this.refreshUnit(id)
        return
      }
      case "shutdown":
        this.store.update((s) => ({ ...s, connection: "reconnecting", connectionDetail: "SAM is stopping" }))
        return
      default:
        this.store.update((s) => applyEvent(s, data))
    }
    const unit = unitOf(data)
    if (
      event === "supervisor" ||
      event === "health" ||
      event === "instance.failed" ||
      event === "gateway.breaker"
    )
      this.refreshUnit(unit)
    if (event === "crash.reported") {
      this.refreshCrashes()
      this.refreshUnit(unit)
    }
    if (event.startsWith("alert.")) this.refreshAlerts(data, event)
    if (event === "config.reloaded") this.refreshAllUnits()
  }

  /** After a snapshot: who we are, what this SAM offers, the graph, crashes and alerts. */
  private readEverythingElse(): void {
    this.once("session", async () => {
      const session = await get<Session>("/api/session")
      this.store.update((s) => ({ ...s, session }))
    })
    this.once("features", async () => {
      const features = await readFeatures()
      this.store.update((s) => ({ ...s, features }))
      if (features.alerts) this.refreshAlerts()
      this.readHistories()
    })
    this.refreshDependencies()
    this.refreshCrashes()
  }

  private refreshDependencies(): void {
    this.once("dependencies", async () => {
      const list = await get<{ dependencies: Record<string, string[]> }>("/api/services")
      this.store.update((s) => ({ ...s, dependencies: list.dependencies }))
    })
  }

  private refreshUnit(id: string | undefined): void {
    if (id === undefined || this.removing.has(id)) return
    const unit = this.store.state.units.get(id)
    if (unit === undefined) return
    const kind: UnitKind = unit.kind
    this.once(`unit:${id}`, async () => {
      const view = await getIfThere<Unit>(unitPath(kind, id))
      if (view) this.store.update((s) => applyUnitView(s, { ...view, kind, readAt: Date.now() } as Unit))
    })
  }

  private refreshAllUnits(): void {
    this.removing.clear()
    this.once("units", async () => {
      const [services, agents] = await Promise.all([
        get<{ services: Raw[]; dependencies: Record<string, string[]> }>("/api/services"),
        get<{ agents: Raw[] }>("/api/agents?pageSize=500"),
      ])
      this.store.update((s) =>
        applySnapshot(s, { services: services.services, agents: agents.agents }, Date.now()),
      )
      this.store.update((s) => ({ ...s, dependencies: services.dependencies }))
      // Units the reload added start their sparklines from their history too.
      this.readHistories()
    })
  }

  private refreshCrashes(): void {
    this.once("crashes", async () => {
      const list = await getIfThere<{ crashes: Crash[] }>("/api/crashes?limit=20")
      const crashes = list?.crashes ?? []
      this.store.update((s) => ({ ...s, crashes }))
      for (const crash of crashes.slice(0, detailedCrashes)) this.readCrash(crash.id)
    })
  }

  /** A crash report's last lines (reports do not change: read once). */
  readCrash(id: number): void {
    if (this.store.state.crashDetails.has(id)) return
    this.once(`crash:${id}`, async () => {
      const detail = await getIfThere<CrashDetail>(`/api/crashes/${id}`)
      if (detail) this.store.update((s) => ({ ...s, crashDetails: new Map(s.crashDetails).set(id, detail) }))
    })
  }

  private refreshAlerts(event?: Raw, type?: string): void {
    if (!this.store.state.features.alerts) {
      // An alert event from a SAM whose alerts endpoint we have not seen: keep it from the event.
      if (event === undefined) return
      const alert = asAlert(event)
      if (type === "alert.firing")
        this.store.update((s) => ({ ...s, alerts: [alert, ...s.alerts.filter((a) => a.key !== alert.key)] }))
      if (type === "alert.resolved")
        this.store.update((s) => ({ ...s, alerts: s.alerts.filter((a) => a.key !== alert.key) }))
      return
    }
    this.once("alerts", async () => {
      const list = await getIfThere<{ active?: Raw[] }>("/api/alerts")
      this.store.update((s) => ({ ...s, alerts: firingAlerts(list) }))
    })
  }

  /**
   * Sparklines start from the metrics history where SAM keeps one: read once per unit, for the
   * units of the first snapshot and for those a config reload adds.
   */
  private readHistories(): void {
    if (!this.store.state.features.metrics) return
    for (const unit of this.store.state.units.values()) {
      if (this.historiesRead.has(unit.id)) continue
      this.historiesRead.add(unit.id)
      this.once(`metrics:${unit.id}`, async () => {
        const metrics = await getIfThere<Metrics>(`${unitPath(unit.kind, unit.id)}/metrics`)
        const series = metrics?.series ?? {}
        this.store.update((s) =>
          applyHistory(
            s,
            unit.id,
            series.cpu_percent ?? [],
            series.memory_bytes ?? [],
            // A service's gateway requests, an agent's capability invocations.
            series.requests_per_second ?? [],
          ),
        )
      })
    }
  }

  /** Run a lifecycle command as the signed-in operator; the outcome becomes a notice. */
  async command(unit: Unit, command: LifecycleCommand): Promise<void> {
    const key = `${unit.id}:${command}`
    this.store.update((s) => ({ ...s, pending: new Set(s.pending).add(key) }))
    try {
      const view = await call<Unit>("POST", `${unitPath(unit.kind, unit.id)}/${command}`, null)
      this.store.update((s) =>
        withNotice(applyUnitView(s, { ...view, kind: unit.kind, readAt: Date.now() } as Unit), {
          unit: unit.id,
          kind: "ok",
          text: `${command} ${unit.id}: done, it is ${view.status}${view.pid ? ` (pid ${view.pid})` : ""}`,
        }),
      )
    } catch (error) {
      const refused = error instanceof ApiProblem && error.status === 409
      this.store.update((s) =>
        withNotice(s, {
          unit: unit.id,
          kind: refused ? "refused" : "failed",
          text: `${command} ${unit.id}: ${error instanceof Error ? error.message : String(error)}`,
        }),
      )
    } finally {
      this.store.update((s) => {
        const pending = new Set(s.pending)
        pending.delete(key)
        return { ...s, pending }
      })
    }
  }

  /** Scale a service to `instances` (where SAM offers it). */
  async scale(unit: Unit, instances: number): Promise<void> {
    try {
      const view = await call<Unit>("POST", `${unitPath(unit.kind, unit.id)}/scale`, { instances })
      this.store.update((s) =>
        withNotice(applyUnitView(s, { ...view, kind: unit.kind, readAt: Date.now() } as Unit), {
          unit: unit.id,
          kind: "ok",
          text: `scale ${unit.id}: ${plural(view.instances ?? instances, "instance")}`,
        }),
      )
    } catch (error) {
      this.store.update((s) =>
        withNotice(s, {
          unit: unit.id,
          kind: error instanceof ApiProblem && error.status === 409 ? "refused" : "failed",
          text: `scale ${unit.id}: ${error instanceof Error ? error.message : String(error)}`,
        }),
      )
    }
  }
}
