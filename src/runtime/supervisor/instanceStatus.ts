// What surfaces see of one instance: its status (state, readiness, pid, restarts, reason, last
// exit, health and usage) and the name of its state. Made by the runner (instanceRunner.ts).
import type { ExitInfo, LifecycleState, PublicState } from "../../actors/lifecycleTypes.ts"
import type { HealthRecord } from "../health/probe.ts"
import type { InstanceUsage } from "./instanceUsage.ts"

export interface InstanceStatus {
  readonly unit: string
  readonly instance: number
  readonly state: LifecycleState
  readonly ready: boolean
  readonly pid: number | undefined
  readonly port: number | undefined
  readonly url: string | undefined
  readonly restarts: number
  readonly uptimeMs: number
  /** When the current incarnation started (epoch ms). */
  readonly startedAt: number | undefined
  readonly reason: string
  readonly lastExit: ExitInfo | undefined
  readonly lastHealth: HealthRecord | undefined
  /** Backoff or a crashed unit's retry: when the next attempt is due (epoch ms). */
  readonly nextAttemptAt: number | undefined
  /** The last sample of the running incarnation's tree (kept after it dies: a crash report's "at death"). */
  readonly lastUsage: InstanceUsage | undefined
  /** Being scaled away: the gateway sends it no new request; it stops once drained. */
  readonly draining: boolean
  /** false: it has no readiness check, so being ready says only that it started. */
  readonly readinessChecked: boolean
}

/** "running.ready", "running.unready" or the plain state name. */
export const stateName = (view: PublicState): string =>
  view.readiness ? `${view.state}.${view.readiness}` : view.state
