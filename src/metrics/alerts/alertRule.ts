// An alert rule as the engine runs it: the config's monitoring.alerts.<name> with every default
// filled (per kind: how long the condition must hold, the threshold, the window). Pure.
import type { AlertKind, AlertRuleConfig } from "../../config/alertRules.ts"

export type { AlertKind }

export interface AlertRule {
  /** The rule's name in the config: the `alertname` label. */
  readonly name: string
  readonly when: AlertKind
  /** Units watched; undefined: every unit (every gateway service for breaker_open). */
  readonly units: ReadonlyArray<string> | undefined
  /** How long the condition must hold before the alert fires. */
  readonly forMs: number
  /** restart_rate: restarts; memory_above: bytes; sam_event_loop_lag: ms; unused otherwise. */
  readonly threshold: number
  /** restart_rate: the window restarts are counted in. */
  readonly windowMs: number
  readonly severity: "info" | "warning" | "critical"
  readonly summary: string | undefined
  readonly webhooks: ReadonlyArray<string>
}

const defaultForSeconds: Record<AlertKind, number> = {
  unit_unready: 30,
  crash_loop: 0,
  restart_rate: 0,
  memory_above: 0,
  breaker_open: 0,
  sam_event_loop_lag: 10,
}

const defaultThreshold: Record<AlertKind, number> = {
  unit_unready: 0,
  crash_loop: 0,
  restart_rate: 3,
  // Config validation requires one; the engine never sees this default from a loaded config.
  memory_above: Number.POSITIVE_INFINITY,
  breaker_open: 0,
  sam_event_loop_lag: 500,
}

export const alertRule = (name: string, config: AlertRuleConfig): AlertRule => ({
  name,
  when: config.when,
  units: config.units,
  forMs: (config.for_seconds ?? defaultForSeconds[config.when]) * 1000,
  threshold: config.threshold ?? defaultThreshold[config.when],
  windowMs: (config.window_seconds ?? 300) * 1000,
  severity: config.severity,
  summary: config.summary,
  webhooks:
    config.webhook === undefined
      ? []
      : typeof config.webhook === "string"
        ? [config.webhook]
        : config.webhook,
})

/** Every rule of `monitoring.alerts`, in the config's order. */
export const alertRules = (alerts: Readonly<Record<string, AlertRuleConfig>>): ReadonlyArray<AlertRule> =>
  Object.entries(alerts).map(([name, config]) => alertRule(name, config))
