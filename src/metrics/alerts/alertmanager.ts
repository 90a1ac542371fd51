// Alertmanager's webhook format (version 4), so receivers written for Alertmanager work with
// SAM: one notification per alert transition, `status` firing or resolved, the alert's labels
// (alertname, when, severity, unit) and annotations (summary, description). Pure.
import type { TrackedAlert } from "./alertState.ts"

export interface AlertmanagerAlert {
  readonly status: "firing" | "resolved"
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  readonly startsAt: string
  readonly endsAt: string
  readonly generatorURL: string
  readonly fingerprint: string
}

export interface AlertmanagerPayload {
  readonly version: "4"
  readonly groupKey: string
  readonly truncatedAlerts: number
  readonly status: "firing" | "resolved"
  readonly receiver: string
  readonly groupLabels: Readonly<Record<string, string>>
  readonly commonLabels: Readonly<Record<string, string>>
  readonly commonAnnotations: Readonly<Record<string, string>>
  readonly externalURL: string
  readonly alerts: ReadonlyArray<AlertmanagerAlert>
}

/** Alertmanager's "no end yet". */
export const zeroTime = "0001-01-01T00:00:00Z"

export const labelsOf = (alert: Pick<TrackedAlert, "rule" | "unit">): Record<string, string> => ({
  alertname: alert.rule.name,
  when: alert.rule.when,
  severity: alert.rule.severity,
  ...(alert.unit === undefined ? {} : { unit: alert.unit }),
})

export const annotationsOf = (alert: Pick<TrackedAlert, "rule" | "condition">): Record<string, string> => ({
  summary: alert.rule.summary ?? alert.condition.description,
  description: alert.condition.description,
  value: String(alert.condition.value),
})

/** A stable id of the label set (FNV-1a, hex), as Alertmanager gives each alert. */
export const fingerprint = (labels: Readonly<Record<string, string>>): string => {
  let hash = 0xcbf29ce484222325n
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u00ff${labels[k]}`)
    .join("\u00ff")
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash.toString(16).padStart(16, "0")
}

export const alertmanagerPayload = (
  alert: TrackedAlert,
  status: "firing" | "resolved",
  at: { readonly startsAt: number; readonly endsAt: number | undefined },
  externalUrl: string,
): AlertmanagerPayload => {
  const labels = labelsOf(alert)
  const annotations = annotationsOf(alert)
  return {
    version: "4",
    groupKey: `{}:{alertname="${alert.rule.name}"}`,
    truncatedAlerts: 0,
    status,
    receiver: "sam",
    groupLabels: { alertname: alert.rule.name },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: new Date(at.startsAt).toISOString(),
        endsAt: at.endsAt === undefined ? zeroTime : new Date(at.endsAt).toISOString(),
        generatorURL: `${externalUrl}/api/alerts`,
        fingerprint: fingerprint(labels),
      },
    ],
  }
}
