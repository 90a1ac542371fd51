// SAM's own process and runtime metrics: prom-client's defaults (process_cpu_seconds_total,
// process_resident_memory_bytes, nodejs_heap_*, nodejs_eventloop_lag_*, nodejs_gc_duration_seconds,
// ...), under their usual names so existing Node.js dashboards work. One registry per process:
// they describe the process, however many Sams it runs. metricsRegistry.ts appends them to a scrape.
import { collectDefaultMetrics, Registry } from "prom-client"

/**
 * Defaults `promtool check metrics` rejects: gauges whose names end in `_total`. Their per-type
 * siblings (`nodejs_active_handles{type}`, ...) stay, and sum() over them gives the same number.
 */
export const rejectedDefaults = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const

let shared: Registry | undefined

/** The process's registry, made on first use (prom-client's collectors then run for the process's life). */
export const processRegistry = (): Registry => {
  if (shared) return shared
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of rejectedDefaults) registry.removeSingleMetric(name)
  shared = registry
  return registry
}
