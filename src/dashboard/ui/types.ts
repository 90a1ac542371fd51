// The shapes the dashboard reads from the control API, taken from its schemas (types only: no
// schema code reaches the bundle) plus what the dashboard derives from them.
import type { Agent, CrashReport, CrashSummary, LogLine, Role, Service } from "../../api/schemas.ts"

export type { LogLine, Role }
export type Crash = typeof CrashSummary.Type
export type CrashDetail = typeof CrashReport.Type
export type UnitKind = "agent" | "service"

/** A unit as the dashboard holds it: the API's view, its kind, and when the view was read. */
export type Unit = (
  | (Agent & { readonly kind: "agent" })
  | (Service & { readonly kind: "service"; readonly capabilities?: ReadonlyArray<string> })
) & {
  /** Date.now() when `uptime` was read (the page counts on from there). */
  readonly readAt: number
}

export type LifecycleCommand = "start" | "stop" | "restart" | "suspend" | "resume"

/** One line of the timeline: a transition, a supervisor decision, a crash or an alert. */
export interface TimelineEntry {
  readonly id: number
  readonly at: string
  readonly type: string
  readonly unit: string | undefined
  readonly text: string
  /** The state it went to (transitions), for its colour. */
  readonly to?: string
}

/** A firing alert as GET /api/alerts and alert.* events carry it (fields beyond these are shown as is). */
export interface Alert {
  readonly key: string
  readonly name: string
  readonly unit: string | undefined
  readonly severity: string | undefined
  readonly detail: string
  readonly since: string | undefined
}

export interface Session {
  readonly name: string
  readonly role: Role
}

/** What this SAM's API offers beyond the core (from GET /api/openapi.json). */
export interface Features {
  readonly scale: boolean
  readonly alerts: boolean
  readonly metrics: boolean
}

export type Connection = "connecting" | "live" | "reconnecting" | "signed-out"

/** The outcome of an operator's action, shown until dismissed or replaced. */
export interface Notice {
  readonly id: number
  readonly unit: string
  readonly kind: "ok" | "refused" | "failed"
  readonly text: string
}
