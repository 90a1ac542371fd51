// Diagnostics sinks: the hook interfaces metrics exporters, log shippers and alert channels
// implement. SAM emits into the Diagnostics hub; plugins register sinks through ctx.diagnostics.
// The hub bridges bus events (plugin logs, supervisor give-ups) and the unit log channel (one
// batch per event-loop turn) into log records and alerts, and isolates sinks: a throwing sink is
// reported to its owner, never to the emitter.
import type { EventBus, SamEvent } from "../runtime/eventBus.ts"
import type { LogRecord as UnitLogRecord } from "../runtime/logs/logRecord.ts"

export interface MetricSample {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram"
  readonly value: number
  readonly labels?: Readonly<Record<string, string>>
  readonly at: string
}

export interface LogRecord {
  readonly at: string
  readonly level: "debug" | "info" | "warn" | "error"
  /** `unit:<id>#<instance>`, `plugin:<name>` or `sam`. */
  readonly source: string
  readonly message: string
  readonly fields?: Readonly<Record<string, unknown>>
}

export interface Alert {
  /** Stable per condition, so a sink can pair `firing` with `resolved`. */
  readonly key: string
  readonly state: "firing" | "resolved"
  readonly severity: "info" | "warning" | "critical"
  readonly title: string
  readonly detail: string
  readonly unit?: string
  readonly at: string
}

export interface MetricSink {
  record(samples: ReadonlyArray<MetricSample>): void | Promise<void>
}
export interface LogSink {
  write(record: LogRecord): void | Promise<void>
}
export interface AlertSink {
  notify(alert: Alert): void | Promise<void>
}

type SinkKind = "metrics" | "logs" | "alerts"

interface Registered<S> {
  readonly sink: S
  readonly onError: (error: unknown) => void
}

export class Diagnostics {
  private readonly metricSinks = new Set<Registered<MetricSink>>()
  private readonly logSinks = new Set<Registered<LogSink>>()
  private readonly alertSinks = new Set<Registered<AlertSink>>()
  // What a sink emits while handling a record (a log line, a failure alert) is delivered after
  // the current record, one level deep: a sink reacting to its own reactions would never end.
  private readonly queue: Array<{ readonly depth: number; readonly run: () => void }> = []
  private draining = false
  private depth = 0

  addMetricSink(sink: MetricSink, onError: (error: unknown) => void = () => {}): () => void {
    return add(this.metricSinks, { sink, onError })
  }
  addLogSink(sink: LogSink, onError: (error: unknown) => void = () => {}): () => void {
    return add(this.logSinks, { sink, onError })
  }
  addAlertSink(sink: AlertSink, onError: (error: unknown) => void = () => {}): () => void {
    return add(this.alertSinks, { sink, onError })
  }

  sinkCount(kind: SinkKind): number {
    return kind === "metrics"
      ? this.metricSinks.size
      : kind === "logs"
        ? this.logSinks.size
        : this.alertSinks.size
  }

  emitMetrics(samples: ReadonlyArray<MetricSample>): void {
    this.deliver(this.metricSinks, (s) => s.record(samples))
  }
  emitLog(record: LogRecord): void {
    this.deliver(this.logSinks, (s) => s.write(record))
  }
  emitAlert(alert: Alert): void {
    this.deliver(this.alertSinks, (s) => s.notify(alert))
  }

  /** Feed bus events (and unit output, from `logs`) to the sinks; returns the unsubscribe function. */
  bridge(bus: EventBus, logs?: UnitLogChannel): () => void {
    const offBus = bus.subscribe((event) => {
      const record = logRecordOf(event)
      if (record) this.emitLog(record)
      const alert = alertOf(event)
      if (alert) this.emitAlert(alert)
    })
    const offLogs = logs?.subscribe((records) => {
      // Nothing to do for a flood nobody listens to.
      if (this.logSinks.size === 0) return
      for (const record of records) this.emitLog(unitLogRecord(record))
    })
    return () => {
      offBus()
      offLogs?.()
    }
  }

  private deliver<S>(sinks: Set<Registered<S>>, call: (sink: S) => void | Promise<void>): void {
    const depth = this.draining ? this.depth + 1 : 0
    if (depth > 1) return
    this.queue.push({ depth, run: () => fanOut(sinks, call) })
    if (this.draining) return
    this.draining = true
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        this.depth = item.depth
        item.run()
      }
    } finally {
      this.draining = false
      this.depth = 0
    }
  }
}

const fanOut = <S>(sinks: Set<Registered<S>>, call: (sink: S) => void | Promise<void>): void => {
  for (const entry of [...sinks]) {
    try {
      const result = call(entry.sink)
      if (result instanceof Promise) result.catch(entry.onError)
    } catch (error) {
      entry.onError(error)
    }
  }
}

const add = <S>(set: Set<S>, entry: S): (() => void) => {
  set.add(entry)
  return () => {
    set.delete(entry)
  }
}

/** Where unit output comes from (`sam.logs`). */
export interface UnitLogChannel {
  subscribe(listener: (records: ReadonlyArray<UnitLogRecord>) => void): () => void
}

const unitLogRecord = (record: UnitLogRecord): LogRecord => ({
  at: new Date(record.time).toISOString(),
  level: record.stream === "stdout" ? "info" : "warn",
  source: `unit:${record.unit}#${record.instance}`,
  message: record.line,
})

const logRecordOf = (event: SamEvent): LogRecord | undefined => {
  if (event.type === "plugin.log") {
    const { plugin, level, message, fields } = event as Record<string, unknown>
    return {
      at: event.at,
      level: (level as LogRecord["level"]) ?? "info",
      source: `plugin:${String(plugin)}`,
      message: String(message),
      ...(fields === undefined ? {} : { fields: fields as Record<string, unknown> }),
    }
  }
  return undefined
}

const alertOf = (event: SamEvent): Alert | undefined => {
  if (event.type === "supervisor") {
    const e = event as Extract<SamEvent, { type: "supervisor" }>
    if (e.action !== "give-up" && e.action !== "group-shutdown") return undefined
    return {
      key: `supervisor:${e.action}:${e.unit ?? e.group ?? ""}`,
      state: "firing",
      severity: "critical",
      title: e.action === "give-up" ? `${e.unit} crashed` : `group ${e.group} shut down`,
      detail: e.detail,
      ...(e.unit === undefined ? {} : { unit: e.unit }),
      at: e.at,
    }
  }
  if (event.type === "alert.firing" || event.type === "alert.resolved") {
    const e = event as Record<string, unknown>
    const unit = typeof e.unit === "string" ? e.unit : undefined
    const severity = e.severity === "info" || e.severity === "critical" ? e.severity : "warning"
    return {
      key: `alert:${String(e.rule)}:${unit ?? ""}`,
      state: event.type === "alert.firing" ? "firing" : "resolved",
      severity,
      title: `${String(e.rule)}: ${String(e.summary)}`,
      detail: String(e.description ?? e.summary),
      ...(unit === undefined ? {} : { unit }),
      at: event.at,
    }
  }
  if (event.type === "plugin.failed" || event.type === "config.invalid") {
    const detail = String(
      (event as Record<string, unknown>).error ?? (event as Record<string, unknown>).message,
    )
    const plugin = (event as Record<string, unknown>).plugin
    return {
      key: event.type === "config.invalid" ? "config:invalid" : `plugin:failed:${String(plugin)}`,
      state: "firing",
      severity: "warning",
      title: event.type === "config.invalid" ? "config reload rejected" : `plugin ${String(plugin)} failed`,
      detail,
      at: event.at,
    }
  }
  return undefined
}
