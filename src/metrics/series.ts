// SAM's own series (units, probes, capabilities, gateway, alerts, watchdog): counters, gauges and
// histograms in the Prometheus text format 0.0.4, as prom-client writes it. prom-client itself
// is loaded only for SAM's process metrics, on the first scrape (processMetrics.ts), so a SAM
// nobody scrapes keeps it out of its memory (bench/RESULTS.md, "Supervisor RSS"). The neighbours:
// the *Series.ts files register here; monitoring.ts scrapes; sinkBridge.ts reads samples().

export type Labels = Readonly<Record<string, string | number>>

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** One sample of a series as prom-client's getMetricsAsJSON gives it (the sink bridge reads these). */
export interface SeriesValue {
  readonly value: number
  readonly labels: Labels
  /** name_bucket, name_sum, name_count of a histogram; the series' own name otherwise. */
  readonly metricName?: string
}

export interface SeriesData {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge" | "histogram"
  readonly values: ReadonlyArray<SeriesValue>
}

interface Series {
  readonly name: string
  collectData(): SeriesData
  /** The text lines of the series (prom-client's format: `# HELP`, `# TYPE`, then samples). */
  text(): string
}

/** The series of one Monitoring, rendered together. */
export class SeriesRegistry {
  private readonly series = new Map<string, Series>()

  register(series: Series): void {
    if (this.series.has(series.name))
      throw new Error(`A metric with the name ${series.name} has already been registered.`)
    this.series.set(series.name, series)
  }

  /** The text of every series, in registration order, as prom-client's Registry.metrics(). */
  metrics(): string {
    return `${[...this.series.values()].map((s) => s.text()).join("\n\n")}\n`
  }

  data(): ReadonlyArray<SeriesData> {
    return [...this.series.values()].map((s) => s.collectData())
  }
}

interface SeriesOptions<Self> {
  readonly name: string
  readonly help: string
  readonly labelNames?: ReadonlyArray<string>
  readonly registers?: ReadonlyArray<SeriesRegistry>
  /** Runs before each read (a scrape, a sink sample): sets the values from what they describe. */
  readonly collect?: (this: Self) => void
}

const escapeText = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const escapeLabel = (value: string | number) =>
  typeof value === "string" ? escapeText(value).replace(/"/g, '\\"') : value

const valueText = (value: number): string =>
  Number.isNaN(value) ? "Nan" : !Number.isFinite(value) ? (value < 0 ? "-Inf" : "+Inf") : `${value}`

const labelText = (labels: Labels): string[] =>
  Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`)

/** The key of a label set: its values by sorted label name (the order labels are given in does not matter). */
const keyOf = (labels: Labels, sortedNames: ReadonlyArray<string>): string => {
  let key = ""
  for (const name of sortedNames) {
    const value = labels[name]
    if (value !== undefined) key += `${name}:${value},`
  }
  return key
}

abstract class Metric<Self, Entry extends { readonly labels: Labels }> implements Series {
  readonly name: string
  readonly help: string
  abstract readonly type: SeriesData["type"]
  protected entries = new Map<string, Entry>()
  protected readonly labelNames: ReadonlyArray<string>
  private readonly sortedNames: ReadonlyArray<string>
  private readonly collector: ((this: Self) => void) | undefined

  constructor(options: SeriesOptions<Self>) {
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames ?? []
    this.sortedNames = [...this.labelNames].sort()
    this.collector = options.collect
    for (const registry of options.registers ?? []) registry.register(this)
  }

  protected entry(labels: Labels, make: () => Entry): Entry {
    const key = keyOf(labels, this.sortedNames)
    let entry = this.entries.get(key)
    if (!entry) {
      entry = make()
      this.entries.set(key, entry)
    }
    return entry
  }

  protected collectNow(): void {
    this.collector?.call(this as unknown as Self)
  }

  abstract collectData(): SeriesData

  text(): string {
    const data = this.collectData()
    const lines = [
      `# HELP ${escapeText(this.name)} ${escapeText(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ]
    for (const value of data.values) {
      const labels = labelText(value.labels)
      lines.push(
        `${value.metricName ?? this.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${valueText(value.value)}`,
      )
    }
    return lines.join("\n")
  }
}

interface ValueEntry {
  readonly labels: Labels
  value: number
}

/** A counter or gauge: one number per label set; without label names, one number from 0. */
abstract class ValueMetric<Self> extends Metric<Self, ValueEntry> {
  constructor(options: SeriesOptions<Self>) {
    super(options)
    this.reset()
  }

  reset(): void {
    this.entries = new Map()
    if (this.labelNames.length === 0) this.entries.set("", { labels: {}, value: 0 })
  }

  protected add(labels: Labels, delta: number): void {
    this.entry(labels, () => ({ labels, value: 0 })).value += delta
  }

  collectData(): SeriesData {
    this.collectNow()
    const values = [...this.entries.values()].map((e) => ({ value: e.value, labels: e.labels }))
    return { name: this.name, help: this.help, type: this.type, values }
  }
}

export class Counter extends ValueMetric<Counter> {
  readonly type = "counter"

  /** Add `value` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, value = 1): void {
    if (value < 0) throw new Error("It is not possible to decrease a counter")
    this.add(labels, value)
  }
}

export class Gauge extends ValueMetric<Gauge> {
  readonly type = "gauge"

  /** set(value) for a gauge without labels, set(labels, value) for one series of it. */
  set(labelsOrValue: Labels | number, value?: number): void {
    const labels = typeof labelsOrValue === "number" ? {} : labelsOrValue
    const next = typeof labelsOrValue === "number" ? labelsOrValue : (value ?? 0)
    this.entry(labels, () => ({ labels, value: 0 })).value = next
  }
}

interface HistogramEntry {
  readonly labels: Labels
  /** Observations per bucket (not cumulative), by index of the bucket's upper bound. */
  readonly counts: number[]
  sum: number
  count: number
}

/** One label set of a histogram, to observe on without looking its labels up again. */
export interface HistogramChild {
  observe(value: number): void
}

export class Histogram extends Metric<Histogram, HistogramEntry> {
  readonly type = "histogram"
  private readonly bounds: ReadonlyArray<number>

  constructor(options: SeriesOptions<Histogram> & { readonly buckets: ReadonlyArray<number> }) {
    super(options)
    this.bounds = [...options.buckets].sort((a, b) => a - b)
  }

  observe(labels: Labels, value: number): void {
    this.record(this.entryOf(labels), value)
  }

  labels(labels: Labels): HistogramChild {
    const entry = this.entryOf(labels)
    return { observe: (value) => this.record(entry, value) }
  }

  reset(): void {
    this.entries = new Map()
  }

  collectData(): SeriesData {
    this.collectNow()
    const values: SeriesValue[] = []
    for (const e of this.entries.values()) {
      let total = 0
      this.bounds.forEach((le, i) => {
        total += e.counts[i] ?? 0
        values.push({ value: total, labels: { le, ...e.labels }, metricName: `${this.name}_bucket` })
      })
      values.push({ value: e.count, labels: { le: "+Inf", ...e.labels }, metricName: `${this.name}_bucket` })
      values.push({ value: e.sum, labels: e.labels, metricName: `${this.name}_sum` })
      values.push({ value: e.count, labels: e.labels, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values }
  }

  private entryOf(labels: Labels): HistogramEntry {
    return this.entry(labels, () => ({ labels, counts: this.bounds.map(() => 0), sum: 0, count: 0 }))
  }

  private record(entry: HistogramEntry, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`)
    entry.sum += value
    entry.count += 1
    const bucket = this.bounds.findIndex((le) => value <= le)
    if (bucket >= 0) entry.counts[bucket]! += 1
  }
}
