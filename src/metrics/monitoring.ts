// SAM's monitoring as one object for the composition root and the API: the Prometheus registry
// with every series (units, probes, capabilities, gateway, alerts, watchdog; SAM's own process
// metrics appended at scrape), the per-unit history, the watchdog and the alert engine, wired to
// a Sam through its facade only. startMonitoring starts the timers; close() stops them all.
import { Gauge, Registry } from "prom-client"
import type { Sam, UnitStatus } from "../runtime/sam.ts"
import type { AlertHistoryTable } from "../runtime/store/alertHistory.ts"
import { AlertEngine } from "./alerts/alertEngine.ts"
import type { AlertRule } from "./alerts/alertRule.ts"
import type { WebhookRetry } from "./alerts/webhookSender.ts"
import { registerCapabilitySeries } from "./capabilitySeries.ts"
import { registerGatewaySeries } from "./gatewaySeries.ts"
import type { GatewayMetricsSource } from "./gatewaySource.ts"
import { registerProbeSeries } from "./probeSeries.ts"
import { processRegistry } from "./processMetrics.ts"
import { bridgeMetricSinks, type MetricSinks } from "./sinkBridge.ts"
import { UnitHistory, type UnitSeriesView } from "./unitHistory.ts"
import { UnitIncidents } from "./unitIncidents.ts"
import { registerUnitSeries, type StatusSnapshot } from "./unitSeries.ts"
import { Watchdog, type WatchdogOptions } from "./watchdog.ts"

export type MonitoredSam = Pick<
  Sam,
  | "status"
  | "unitStatus"
  | "events"
  | "bus"
  | "observeProbes"
  | "capabilities"
  | "unitSpecs"
  | "reaperStatus"
  | "isStopping"
>

export interface MetricsSettings {
  /** false: the metrics path answers 404 (history, watchdog and alerts still run). */
  readonly enabled: boolean
  readonly path: string
  /** Loopback clients need no credential for the metrics path. */
  readonly public: boolean
}

export interface MonitoringOptions {
  readonly metrics?: Partial<MetricsSettings>
  readonly alerts?: ReadonlyArray<AlertRule>
  /** The runtime store's alert history (store.alertHistory). */
  readonly alertHistory?: Pick<AlertHistoryTable, "insert" | "update" | "list">
  readonly gateway?: GatewayMetricsSource
  /** The plugin host's diagnostics hub: its metric sinks receive samples. */
  readonly sinks?: MetricSinks
  readonly sinkIntervalMs?: number
  /** One history point per unit this often (default 5 s)... */
  readonly historyIntervalMs?: number
  /** ...this many points kept (default 180: 15 minutes). */
  readonly historyPoints?: number
  /** How often alert rules are evaluated (default 1 s). */
  readonly alertIntervalMs?: number
  readonly watchdog?: WatchdogOptions
  readonly webhook?: WebhookRetry
  /** Where SAM's API is (alert payloads link to it); settable later as `externalUrl`. */
  readonly externalUrl?: string
}

/** The per-unit history as GET /api/{services,agents}/:id/metrics answers it. */
export interface UnitMetricsView {
  readonly id: string
  readonly interval_seconds: number
  readonly series: UnitSeriesView
}

export class Monitoring {
  readonly settings: MetricsSettings
  readonly registry = new Registry()
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE
  readonly history: UnitHistory
  readonly watchdog: Watchdog
  readonly alerts: AlertEngine
  readonly incidents = new UnitIncidents()
  /** Where SAM's API is, for the links in alert payloads (the daemon sets it once the API is up). */
  externalUrl: string

  private readonly sam: MonitoredSam
  private readonly offs: Array<() => void> = []
  private units: ReadonlyArray<UnitStatus> = []
  private readonly kinds = new Map<string, string>()
  private gateway: GatewayMetricsSource | undefined
  private closed = false

  constructor(sam: MonitoredSam, options: MonitoringOptions = {}) {
    this.sam = sam
    this.externalUrl = options.externalUrl ?? "http://127.0.0.1:7070"
    this.settings = {
      enabled: options.metrics?.enabled ?? true,
      path: options.metrics?.path ?? "/metrics",
      public: options.metrics?.public ?? false,
    }
    this.history = new UnitHistory({
      ...(options.historyIntervalMs === undefined ? {} : { intervalMs: options.historyIntervalMs }),
      ...(options.historyPoints === undefined ? {} : { points: options.historyPoints }),
    })
    this.watchdog = new Watchdog(sam, options.watchdog)
    this.offs.push(sam.events.subscribe(this.incidents.observe))
    this.alerts = new AlertEngine({
      sam,
      rules: options.alerts ?? [],
      incidents: this.incidents,
      openBreakers: () => this.openBreakers(),
      eventLoopLagMs: () => this.watchdog.report().event_loop_lag_ms,
      ...(options.alertHistory === undefined ? {} : { history: options.alertHistory }),
      ...(options.alertIntervalMs === undefined ? {} : { intervalMs: options.alertIntervalMs }),
      externalUrl: () => this.externalUrl,
      ...(options.webhook === undefined ? {} : { webhook: options.webhook }),
    })
    const snapshot: StatusSnapshot = {
      units: () => this.units,
      kindOf: (unit) => this.kindOf(unit),
    }
    this.offs.push(registerUnitSeries(this.registry, snapshot, this.incidents))
    this.offs.push(registerProbeSeries(this.registry, sam))
    this.offs.push(
      registerCapabilitySeries(this.registry, sam, (record) => {
        const provider = record.provider
        if (provider !== undefined && !provider.startsWith("plugin:"))
          this.history.countRequest(provider.split("#")[0] ?? provider)
      }),
    )
    const engine = this.alerts
    new Gauge({
      name: "sam_alerts_firing",
      help: "Alerts firing now, by rule (alertname) and kind (when).",
      labelNames: ["rule", "when"],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const r of engine.firingCounts()) this.set({ rule: r.rule, when: r.when }, r.count)
      },
    })
    this.watchdog.register(this.registry)
    if (options.gateway) this.attachGateway(options.gateway)
    if (options.sinks)
      this.offs.push(
        bridgeMetricSinks(options.sinks, () => [this.registry, processRegistry()], {
          before: () => this.refresh(),
          ...(options.sinkIntervalMs === undefined ? {} : { intervalMs: options.sinkIntervalMs }),
        }),
      )
  }

  /** Start the watchdog, the history sampler and the alert engine (timers unref'd). */
  start(): this {
    if (this.closed) return this
    this.watchdog.start()
    this.alerts.start()
    const sampler = setInterval(
      () => this.history.sample(Date.now(), this.sam.status().units),
      this.history.intervalMs,
    )
    sampler.unref()
    this.offs.push(() => clearInterval(sampler))
    return this
  }

  /**
   * Feed the gateway's requests and breakers into the series, the request-rate history and the
   * breaker_open alert. Once per Monitoring (the series are registered once).
   */
  attachGateway(source: GatewayMetricsSource): void {
    if (this.gateway) throw new Error("Monitoring.attachGateway: a gateway source is attached already")
    this.gateway = source
    this.offs.push(
      registerGatewaySeries(this.registry, source, (record) => this.history.countRequest(record.service)),
    )
  }

  /** The Prometheus text (format 0.0.4) of every series, SAM's process metrics last. */
  async scrape(): Promise<string> {
    this.refresh()
    const own = await this.registry.metrics()
    const processMetrics = await processRegistry().metrics()
    return `${own}\n${processMetrics}`
  }

  /** Unit `id`'s requests per second over the last history interval (0 when none came). */
  requestRate(id: string): number {
    return this.history.requestRate(id)
  }

  /** Unit `id`'s history (throws UnitNotFound through the facade for an unknown id). */
  unitMetrics(id: string): UnitMetricsView {
    this.sam.unitStatus(id)
    return { id, interval_seconds: this.history.intervalMs / 1000, series: this.history.series(id) }
  }

  /** Apply new alert rules (a config reload). */
  setAlertRules(rules: ReadonlyArray<AlertRule>): void {
    this.alerts.setRules(rules)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const off of this.offs.splice(0).reverse()) off()
    this.watchdog.close()
    this.alerts.close()
  }

  private refresh(): void {
    this.units = this.sam.status().units
    for (const u of this.units) this.kinds.set(u.id, u.kind)
  }

  private kindOf(unit: string): string {
    const known = this.kinds.get(unit)
    if (known) return known
    try {
      const kind = this.sam.unitStatus(unit).kind
      this.kinds.set(unit, kind)
      return kind
    } catch {
      return "unknown"
    }
  }

  private openBreakers(): ReadonlyArray<string> {
    if (!this.gateway) return []
    const open: string[] = []
    for (const [service, state] of this.gateway.breakers()) if (state === "open") open.push(service)
    return open
  }
}

/** Monitoring of `sam`, started. */
export const startMonitoring = (sam: MonitoredSam, options: MonitoringOptions = {}): Monitoring =>
  new Monitoring(sam, options).start()
