// Runs the alert rules: every interval it gathers SAM's facts (statuses, restarts, breakers, the
// watchdog's lag), asks each rule which conditions hold (conditions.ts), advances the alerts
// (alertState.ts), and for each that fires or resolves: the event `alert.firing` / `alert.resolved`
// on the bus (so /api/events, SAM's log and plugins' alert sinks see it), a row in the store's
// alert history, and an Alertmanager-format POST to the rule's webhooks (webhookSender.ts).
import type { EventBus } from "../../runtime/eventBus.ts"
import type { Sam } from "../../runtime/sam.ts"
import type { AlertHistoryTable } from "../../runtime/store/alertHistory.ts"
import type { AlertRecord } from "../../runtime/store/storeTypes.ts"
import type { UnitIncidents } from "../unitIncidents.ts"
import { alertmanagerPayload, annotationsOf, labelsOf } from "./alertmanager.ts"
import type { AlertRule } from "./alertRule.ts"
import { advance, type TrackedAlert } from "./alertState.ts"
import { conditionsOf } from "./conditions.ts"
import { type WebhookRetry, WebhookSender } from "./webhookSender.ts"

export interface AlertEngineOptions {
  readonly sam: Pick<Sam, "status" | "isStopping"> & { readonly bus: Pick<EventBus, "publish"> }
  readonly rules: ReadonlyArray<AlertRule>
  readonly incidents: Pick<UnitIncidents, "restartsSince" | "crashLoopSince">
  /** Services whose gateway breaker is open (none without a gateway). */
  readonly openBreakers?: () => ReadonlyArray<string>
  /** The watchdog's last event-loop lag (ms). */
  readonly eventLoopLagMs?: () => number
  /** The runtime store's alert history; without one, recent alerts are kept in memory. */
  readonly history?: Pick<AlertHistoryTable, "insert" | "update" | "list">
  /** How often the rules are evaluated (default 1 s). */
  readonly intervalMs?: number
  /** Where SAM's API is, for the payloads' externalURL and generatorURL. */
  readonly externalUrl?: () => string
  readonly webhook?: WebhookRetry
}

/** An alert as GET /api/alerts shows it. */
export interface AlertView {
  readonly id: number | null
  readonly rule: string
  readonly unit: string | null
  readonly state: "pending" | "firing" | "resolved"
  /** pending: when the condition began; firing and resolved: when it fired. */
  readonly started_at: string
  readonly ended_at: string | null
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

const iso = (ms: number) => new Date(ms).toISOString()
const recentInMemory = 200

export class AlertEngine {
  private readonly options: AlertEngineOptions
  private readonly sender: WebhookSender
  private rules: ReadonlyArray<AlertRule>
  private tracked: ReadonlyMap<string, TrackedAlert> = new Map()
  private readonly ids = new Map<string, number>()
  private readonly memory: AlertView[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor(options: AlertEngineOptions) {
    this.options = options
    this.rules = options.rules
    const bus = options.sam.bus
    this.sender = new WebhookSender({
      ...(options.webhook === undefined ? {} : { retry: options.webhook }),
      onFailure: (failure) =>
        bus.publish({
          type: "alert.webhook_failed",
          rule: failure.subject,
          receiver: failure.receiver,
          attempts: failure.attempts,
          detail: `alert ${failure.subject}: webhook ${failure.receiver} failed after ${failure.attempts} attempt(s): ${failure.detail}`,
        }),
    })
    // Alerts a SAM left open when it stopped (or died) ended with it; this SAM judges afresh.
    const now = iso(Date.now())
    for (const row of options.history?.list({ limit: 1_000 }) ?? [])
      if (row.state !== "resolved") options.history?.update(row.id, { state: "resolved", endedAt: now })
  }

  start(): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => this.evaluate(), this.options.intervalMs ?? 1_000)
    this.timer.unref()
  }

  /** New rules (a config reload): alerts of removed rules resolve at the next evaluation. */
  setRules(rules: ReadonlyArray<AlertRule>): void {
    this.rules = rules
  }

  get ruleNames(): ReadonlyArray<{ readonly name: string; readonly when: string }> {
    return this.rules.map((r) => ({ name: r.name, when: r.when }))
  }

  /** Evaluate every rule now. */
  evaluate(now = Date.now()): void {
    const { sam } = this.options
    // Once SAM stops, its units going down is no news: alerts stay as they were until close().
    if (this.closed || sam.isStopping) return
    const facts = {
      now,
      units: this.rules.length === 0 ? [] : sam.status().units,
      restartsSince: (unit: string, since: number) => this.options.incidents.restartsSince(unit, since),
      crashLoopSince: (unit: string) => this.options.incidents.crashLoopSince(unit),
      openBreakers: this.options.openBreakers?.() ?? [],
      eventLoopLagMs: this.options.eventLoopLagMs?.() ?? 0,
    }
    const holding = this.rules.flatMap((rule) =>
      conditionsOf(rule, facts).map((condition) => ({ rule, condition })),
    )
    const step = advance(this.tracked, holding, now)
    this.tracked = step.next
    for (const alert of step.fired) this.fire(alert, now)
    for (const alert of step.resolved) this.resolve(alert, alert.resolvedAt)
  }

  /** Alerts firing now, then pending ones (oldest first). */
  active(): ReadonlyArray<AlertView> {
    const views = [...this.tracked.values()].map((a) => this.view(a))
    return [...views.filter((v) => v.state === "firing"), ...views.filter((v) => v.state === "pending")]
  }

  /** How many alerts of each rule are firing (every rule listed, 0 included). */
  firingCounts(): ReadonlyArray<{ readonly rule: string; readonly when: string; readonly count: number }> {
    return this.rules.map((r) => ({
      rule: r.name,
      when: r.when,
      count: [...this.tracked.values()].filter((a) => a.rule.name === r.name && a.state === "firing").length,
    }))
  }

  /** Alerts that fired, newest first (the store's history, or this SAM's memory without one). */
  recent(limit = 50): ReadonlyArray<AlertView> {
    const history = this.options.history
    if (!history) return this.memory.slice(-limit).reverse()
    return history.list({ limit }).map(recordView)
  }

  /** Stop evaluating and notifying; open alerts end in the history (no webhook: SAM is what stops). */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.sender.close()
    const now = iso(Date.now())
    for (const [key, id] of this.ids) {
      this.options.history?.update(id, { state: "resolved", endedAt: now })
      this.ids.delete(key)
    }
  }

  private view(alert: TrackedAlert): AlertView {
    return {
      id: this.ids.get(alert.key) ?? null,
      rule: alert.rule.name,
      unit: alert.unit ?? null,
      state: alert.state,
      started_at: iso(alert.firedAt ?? alert.activeSince),
      ended_at: null,
      labels: labelsOf(alert),
      annotations: annotationsOf(alert),
    }
  }

  private fire(alert: TrackedAlert, now: number): void {
    const labels = labelsOf(alert)
    const annotations = annotationsOf(alert)
    const record = this.options.history?.insert({
      rule: alert.rule.name,
      unit: alert.unit ?? null,
      state: "firing",
      startedAt: iso(now),
      endedAt: null,
      labels,
      annotations,
    })
    if (record) this.ids.set(alert.key, record.id)
    else this.remember({ ...this.view(alert), started_at: iso(now) })
    this.options.sam.bus.publish({
      type: "alert.firing",
      rule: alert.rule.name,
      when: alert.rule.when,
      severity: alert.rule.severity,
      unit: alert.unit ?? null,
      summary: annotations.summary,
      description: annotations.description,
      value: alert.condition.value,
      starts_at: iso(now),
      pending_since: iso(alert.activeSince),
      labels,
    })
    this.notify(alert, "firing", now, undefined)
  }

  private resolve(alert: TrackedAlert, now: number): void {
    const id = this.ids.get(alert.key)
    this.ids.delete(alert.key)
    if (id !== undefined) this.options.history?.update(id, { state: "resolved", endedAt: iso(now) })
    else {
      const kept = this.memory.findLast((v) => v.rule === alert.rule.name && v.unit === (alert.unit ?? null))
      if (kept) this.memory[this.memory.indexOf(kept)] = { ...kept, state: "resolved", ended_at: iso(now) }
    }
    const firedAt = alert.firedAt ?? alert.activeSince
    this.options.sam.bus.publish({
      type: "alert.resolved",
      rule: alert.rule.name,
      when: alert.rule.when,
      severity: alert.rule.severity,
      unit: alert.unit ?? null,
      summary: alert.rule.summary ?? alert.condition.description,
      starts_at: iso(firedAt),
      ends_at: iso(now),
      labels: labelsOf(alert),
    })
    this.notify(alert, "resolved", firedAt, now)
  }

  private notify(
    alert: TrackedAlert,
    status: "firing" | "resolved",
    startsAt: number,
    endsAt: number | undefined,
  ) {
    if (alert.rule.webhooks.length === 0) return
    const payload = alertmanagerPayload(
      alert,
      status,
      { startsAt, endsAt },
      this.options.externalUrl?.() ?? "http://127.0.0.1",
    )
    for (const url of alert.rule.webhooks) this.sender.send(url, payload, alert.rule.name)
  }

  private remember(view: AlertView): void {
    this.memory.push(view)
    if (this.memory.length > recentInMemory) this.memory.shift()
  }
}

const recordView = (record: AlertRecord): AlertView => ({
  id: record.id,
  rule: record.rule,
  unit: record.unit,
  state: record.state,
  started_at: record.startedAt,
  ended_at: record.endedAt,
  labels: record.labels,
  annotations: record.annotations,
})
