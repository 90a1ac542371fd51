// Plugins' metric sinks (ctx.diagnostics.addMetricSink) receive SAM's samples: every interval,
// while at least one sink is registered, each series of the registries becomes a MetricSample
// (histograms as their _bucket, _sum and _count samples, type "histogram").
import type { MetricObjectWithValues, MetricValue, Registry } from "prom-client"
import type { MetricSample } from "../plugins/diagnostics.ts"

/** What the bridge needs of the plugin host's Diagnostics hub. */
export interface MetricSinks {
  emitMetrics(samples: ReadonlyArray<MetricSample>): void
  sinkCount(kind: "metrics"): number
}

const typeOf = (type: string): MetricSample["type"] | undefined =>
  type === "counter" || type === "gauge" || type === "histogram" ? type : undefined

/** The samples of one registry's metrics, as of now. */
export const samplesOf = async (registries: ReadonlyArray<Registry>, at: string): Promise<MetricSample[]> => {
  const samples: MetricSample[] = []
  for (const registry of registries) {
    const metrics = (await registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>
    for (const metric of metrics) {
      const type = typeOf(String(metric.type))
      if (!type) continue
      for (const value of metric.values) {
        const labels: Record<string, string> = {}
        for (const [k, v] of Object.entries(value.labels)) if (v !== undefined) labels[k] = String(v)
        const name = (value as { metricName?: string }).metricName ?? metric.name
        samples.push({ name, type, value: value.value, labels, at })
      }
    }
  }
  return samples
}

/** Feed `sinks` every `intervalMs` (default 10 s); `before` refreshes what the series read. Returns the stop function. */
export const bridgeMetricSinks = (
  sinks: MetricSinks,
  registries: () => ReadonlyArray<Registry>,
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
    samplesOf(registries(), new Date().toISOString())
      .then((samples) => sinks.emitMetrics(samples))
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        busy = false
      })
  }, options.intervalMs ?? 10_000)
  timer.unref()
  return () => clearInterval(timer)
}
