// sam_health_check_duration_seconds: every probe result of every instance, by unit, probe kind
// and result, from the facade's probe observer (the bus carries only changes). The hot path of
// 1,000 checks a second: label children are cached, so an observation is one map lookup.
import { Histogram, type Registry } from "prom-client"
import type { ProbeObservation, Sam } from "../runtime/sam.ts"

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const registerProbeSeries = (registry: Registry, sam: Pick<Sam, "observeProbes">): (() => void) => {
  const histogram = new Histogram({
    name: "sam_health_check_duration_seconds",
    help: "How long each health check took, by unit, probe kind (http, tcp, exec, ...) and result (ok, failed).",
    labelNames: ["unit", "kind", "probe", "result"],
    buckets,
    registers: [registry],
  })
  const children = new Map<string, Histogram.Internal<"unit" | "kind" | "probe" | "result">>()
  return sam.observeProbes((o: ProbeObservation) => {
    const result = o.ok ? "ok" : "failed"
    const key = `${o.unit}\u0000${o.probe}\u0000${result}`
    let child = children.get(key)
    if (!child) {
      child = histogram.labels({ unit: o.unit, kind: o.kind, probe: o.probe, result })
      children.set(key, child)
    }
    child.observe(o.durationMs / 1000)
  })
}
