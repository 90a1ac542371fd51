// Plugins' metric sinks (ctx.diagnostics.addMetricSink) receive SAM's samples: every interval,
// while at least one sink is registered, each series of the registries becomes a MetricSample
// (histograms as their _bucket, _sum and _count samples, type "histogram").
import type { MetricSample } from "../plugins/diagnostics.ts"
import type { SeriesData } from "./series.ts"

/** What the bridge needs of the plugin host's Diagnostics hub. */
export interface MetricSinks {
  emitMetrics(samples: ReadonlyArray<MetricSample>): void
  sinkCount(kind: "metrics"): number
}

const typeOf = (type: string): MetricSample["type"] | undefined =>
  type === "counter" || type === "gauge" || type === "histogram" ? type : undefined

/** The samples of the series, as read now (`at`). */
export const samplesOf = (series: ReadonlyArray<SeriesData>, at: string): MetricSample[] => {
  const samples: MetricSample[] = []
  for (const metric of series) {
    const type = typeOf(String(metric.type))
    if (!type) continue
    for (const value of metric.values) {
      const labels: Record<string, string> = {}
      for (const [k, v] of Object.entries(value.labels)) if (v !== undefined) labels[k] = String(v)
      samples.push({ name: value.metricName ?? metric.name, type, value: value.value, labels, at })
    }
  }
  return samples
}

/** Feed `sinks` every `intervalMs` (default 10 s); `before` refreshes what the series read. Returns the stop function. */
export const bridgeMetricSinks = (
  sinks: MetricSinks,
  /** The series as of now: SAM's own and its process metrics (prom-client's getMetricsAsJSON shape). */
  series: () => Promise<ReadonlyArray<SeriesData>>,
  options: {
    readonly intervalMs?: number
    readonly before?: () => void
    readonly onError?: (error: unknown) => void
  } = {},
): (() => void) => {
  let busy = false
  const timer = setInterval(() => {
    if (busy || sinks.sinkCount("metrics") === 0) return
    busy = true
    options.before?.()
    series()
      .then((data) => sinks.emitMetrics(samplesOf(data, new Date().toISOString())))
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        busy = false
      })
  }, options.intervalMs ?? 10_000)
  timer.unref()
  return () => clearInterval(timer)
}
