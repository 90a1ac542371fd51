// SAM's own series (src/metrics/series.ts) read as prom-client wrote them before: the same
// observations give the same Prometheus text and the same JSON samples, escaping included.
import * as PromClient from "prom-client"
import { describe, expect, it } from "vitest"
import * as Series from "../../src/metrics/series.ts"

type Kinds = typeof Series | typeof PromClient

// The same story told to both: counters with and without labels, gauges read at collect, histograms.
const tell = (kinds: Kinds, registry: Series.SeriesRegistry | PromClient.Registry) => {
  const { Counter, Gauge, Histogram } = kinds as typeof Series
  const registers = [registry as Series.SeriesRegistry]
  const restarts = new Counter({
    name: "t_restarts_total",
    help: 'a \\ "help"\nline',
    labelNames: ["unit", "kind"],
    registers,
  })
  restarts.inc({ unit: 'we"b\n\\', kind: "service" })
  restarts.inc({ kind: "agent", unit: "helper" }, 2.5)
  restarts.inc({ unit: 'we"b\n\\', kind: "service" })
  new Counter({ name: "t_empty_total", help: "never counted", registers })
  new Gauge({
    name: "t_ready",
    help: "read at collect",
    labelNames: ["unit"],
    registers,
    collect() {
      this.reset()
      this.set({ unit: "web" }, 1)
      this.set({ unit: "odd" }, Number.NaN)
    },
  })
  new Gauge({
    name: "t_lag_seconds",
    help: "no labels",
    registers,
    collect() {
      this.set(Number.POSITIVE_INFINITY)
    },
  })
  const durations = new Histogram({
    name: "t_duration_seconds",
    help: "h",
    labelNames: ["unit", "result"],
    buckets: [0.001, 0.5, 1, 10],
    registers,
  })
  durations.observe({ unit: "web", result: "ok" }, 0.0005)
  durations.observe({ result: "failed", unit: "web" }, 20)
  const child = durations.labels({ unit: "db", result: "ok" })
  child.observe(1)
  child.observe(0.3)
  new Histogram({ name: "t_unused_seconds", help: "h", labelNames: ["unit"], buckets: [1], registers })
}

describe("SAM's series", () => {
  it("write the Prometheus text and JSON samples prom-client writes for the same observations", async () => {
    const ours = new Series.SeriesRegistry()
    const theirs = new PromClient.Registry()
    tell(Series, ours)
    tell(PromClient, theirs)
    expect(ours.metrics()).toBe(await theirs.metrics())
    const shape = (data: ReadonlyArray<{ name: string; type: unknown; values: ReadonlyArray<object> }>) =>
      data.map(({ name, type, values }) => ({ name, type, values: values.map((v) => ({ ...v })) }))
    expect(shape(ours.data())).toEqual(
      shape((await theirs.getMetricsAsJSON()) as unknown as ReadonlyArray<Series.SeriesData>).map((m) => ({
        ...m,
        values: m.values.map(({ exemplar: _e, ...v }: { exemplar?: unknown }) => v),
      })),
    )
  })

  it("refuse a second series of the same name, as prom-client does", () => {
    const registry = new Series.SeriesRegistry()
    new Series.Counter({ name: "t_total", help: "x", registers: [registry] })
    expect(() => new Series.Counter({ name: "t_total", help: "x", registers: [registry] })).toThrow(
      /already been registered/,
    )
  })
})
