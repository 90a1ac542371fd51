// monitoring.alerts.<name>: the alert rules SAM evaluates (src/metrics/alerts/ runs them). The
// schema of one rule, and the checks that need the rest of the config (unit names, a threshold
// the kind requires). An unknown `when` gets a did-you-mean like every other name.

import * as Schema from "effect/Schema"
import { type ConfigPath, formatPath, isRecord } from "./configPath.ts"
import type { IssueDraft } from "./issueDraft.ts"
import { NonEmpty, optional, PositiveSeconds, Seconds, StringList, withDefault } from "./schemaPrimitives.ts"
import { suggestionSuffix } from "./suggest.ts"

export const ALERT_KINDS = [
  "unit_unready",
  "crash_loop",
  "restart_rate",
  "memory_above",
  "breaker_open",
  "sam_event_loop_lag",
] as const

export type AlertKind = (typeof ALERT_KINDS)[number]

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const

const isAlertKind = (value: string): value is AlertKind =>
  (ALERT_KINDS as ReadonlyArray<string>).includes(value)

const AlertKindSchema = Schema.String.check(
  Schema.makeFilter(
    (name: string) =>
      isAlertKind(name) ||
      `expected one of ${ALERT_KINDS.map((k) => JSON.stringify(k)).join(" | ")}, found ${JSON.stringify(name)}${suggestionSuffix(name, ALERT_KINDS)}`,
    { expected: ALERT_KINDS.join(" | "), toJsonSchema: () => ({ enum: [...ALERT_KINDS] }) },
  ),
).pipe(Schema.refine(isAlertKind))

/** An http(s) URL (the receiver of Alertmanager-format webhooks). */
const WebhookUrl = NonEmpty.check(
  Schema.makeFilter(
    (url: string) => {
      try {
        const parsed = new URL(url)
        return (
          parsed.protocol === "http:" ||
          parsed.protocol === "https:" ||
          `expected an http:// or https:// URL, found ${JSON.stringify(url)}`
        )
      } catch {
        return `expected an http:// or https:// URL, found ${JSON.stringify(url)}`
      }
    },
    { expected: "an http(s) URL", toJsonSchema: () => ({ pattern: "^https?://" }) },
  ),
)

export const AlertRuleSchema = Schema.Struct({
  when: AlertKindSchema.annotate({
    description:
      "unit_unready | crash_loop | restart_rate | memory_above | breaker_open | sam_event_loop_lag (docs/METRICS.md).",
  }),
  units: optional(StringList, "Units the rule watches (default: every unit; services for breaker_open)."),
  for_seconds: optional(
    Seconds,
    "How long the condition must hold before the alert fires (default 30 for unit_unready, 10 for sam_event_loop_lag, else 0).",
  ),
  threshold: optional(
    Schema.Finite.check(Schema.isGreaterThan(0)),
    "restart_rate: restarts within window_seconds (default 3); memory_above: bytes (required); sam_event_loop_lag: milliseconds (default 500).",
  ),
  window_seconds: optional(
    PositiveSeconds,
    "restart_rate: the window restarts are counted in (default 300).",
  ),
  severity: Schema.Literals(ALERT_SEVERITIES).pipe(withDefault("warning", "The alert's severity label.")),
  summary: optional(NonEmpty, "The alert's summary annotation (default: what SAM saw)."),
  webhook: optional(
    Schema.Union([WebhookUrl, Schema.Array(WebhookUrl)]),
    "Alertmanager-format webhook receiver(s), POSTed on firing and on resolved.",
  ),
}).annotate({ identifier: "AlertRule" })

export type AlertRuleConfig = typeof AlertRuleSchema.Type

/** The raw `monitoring.alerts` record, if the config has one. */
const alertsOf = (raw: Record<string, unknown>): unknown =>
  isRecord(raw.monitoring) ? raw.monitoring.alerts : undefined

/** Alert names become the `alertname` label: the same characters as unit ids, and dots. */
const ALERT_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/

/**
 * What only the whole config can tell about `monitoring.alerts`: names usable as labels, `units`
 * naming configured units, and a threshold where the kind has no default.
 */
export const alertChecks = (
  raw: Record<string, unknown>,
  unitIds: ReadonlyArray<string>,
): Array<IssueDraft> => {
  const out: Array<IssueDraft> = []
  const alerts = alertsOf(raw)
  if (!isRecord(alerts)) return out
  for (const [name, rule] of Object.entries(alerts)) {
    const at: ConfigPath = ["monitoring", "alerts", name]
    if (!ALERT_NAME.test(name))
      out.push({
        path: at,
        atKey: true,
        message: `alert name "${name}" must start with a letter and use only letters, digits, _ . and -`,
      })
    if (!isRecord(rule)) continue
    if (rule.when === "memory_above" && rule.threshold === undefined)
      out.push({ path: at, message: "when: memory_above needs a threshold (bytes of resident memory)" })
    if (Array.isArray(rule.units))
      rule.units.forEach((unit, i) => {
        if (typeof unit === "string" && !unitIds.includes(unit))
          out.push({
            path: [...at, "units", i],
            message: `no agent or service "${unit}"${suggestionSuffix(unit, unitIds)}`,
          })
      })
  }
  return out
}

/** Whether a service's gateway breaker can open: the gateway and its breaker are on (the default). */
const hasBreaker = (service: unknown): boolean => {
  if (!isRecord(service)) return false
  const gateway = service.gateway
  if (!isRecord(gateway)) return true
  return gateway.enabled !== false && !(isRecord(gateway.breaker) && gateway.breaker.enabled === false)
}

/** Rules that can never fire as configured: a breaker_open rule with no breaker to watch. */
export const alertWarnings = (raw: Record<string, unknown>): Array<string> => {
  const alerts = alertsOf(raw)
  if (!isRecord(alerts)) return []
  const services = isRecord(raw.services) ? raw.services : {}
  const warnings: Array<string> = []
  for (const [name, rule] of Object.entries(alerts)) {
    if (!isRecord(rule) || rule.when !== "breaker_open") continue
    const watched = Array.isArray(rule.units)
      ? rule.units.filter((u): u is string => typeof u === "string")
      : Object.keys(services)
    if (watched.some((id) => hasBreaker(services[id]))) continue
    const what =
      watched.length === 0
        ? "there is no service"
        : `${watched.join(", ")} ${watched.length === 1 ? "has" : "have"} no gateway breaker (an agent, or gateway.enabled or gateway.breaker.enabled false)`
    warnings.push(`${formatPath(["monitoring", "alerts", name])}: when: breaker_open can never fire: ${what}`)
  }
  return warnings
}
