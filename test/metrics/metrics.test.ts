// Stories of SAM's Prometheus endpoint: a scrape taken with units running, health checks, gateway
// traffic (a GatewayMetricsHub the test drives, as the gateway will) and capability invocations
// passes `promtool check metrics` and carries the named series with their labels; who may read
// it; where it is served; the per-unit history and the watchdog in GET /api/status.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { GatewayMetricsHub } from "../../src/metrics/gatewaySource.ts"
import { Monitoring } from "../../src/metrics/monitoring.ts"
import type { MetricSample } from "../../src/plugins/diagnostics.ts"
import { Diagnostics } from "../../src/plugins/diagnostics.ts"
import { type ApiHarness, startApi, withClient } from "../api/apiHarness.ts"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { families, promtoolCheck, until } from "./support.ts"

const hub = new GatewayMetricsHub()
const diagnostics = new Diagnostics()
const received: MetricSample[][] = []
let api: ApiHarness
let monitoring: Monitoring

beforeAll(async () => {
  diagnostics.addMetricSink({ record: (samples) => void received.push([...samples]) })
  api = await startApi(
    [
      nodeService("web", "http-service.mjs", { probes: [httpCheck({ intervalMs: 100 })] }),
      agentUnit("helper", { runtime: "inline" }),
    ],
    {
      monitoring: (sam) => {
        monitoring = new Monitoring(sam, {
          gateway: hub,
          sinks: diagnostics,
          sinkIntervalMs: 50,
          historyIntervalMs: 100,
        }).start()
        return monitoring
      },
    },
  )
  await api.sam.until("web", (s) => s.ready)
  await api.sam.until("helper", (s) => s.ready)
  // A usage sample of web's Node process, not of it being spawned (on a loaded machine the
  // first sample can come before the program is even loaded).
  await until(
    "a usage sample of web's Node process",
    () => (api.sam.unitStatus("web").instances[0]?.lastUsage?.rssBytes ?? 0) > 1024 * 1024,
  )
  // Traffic of every kind the series count.
  await api.sam.invoke("echo", { hello: 1 })
  await api.sam.invoke("echo", { hello: 2 })
  await expect(api.sam.invoke("no_such_capability", {})).rejects.toThrow()
  hub.requestCompleted({
    service: "web",
    method: "GET",
    status: 200,
    durationSeconds: 0.012,
    ttfbSeconds: 0.004,
  })
  hub.requestCompleted({
    service: "web",
    method: "post",
    status: 502,
    durationSeconds: 1.5,
    ttfbSeconds: 1.4,
  })
  hub.requestCompleted({ service: "web", method: "PROPFIND", status: 0, durationSeconds: 0.2, retries: 2 })
  hub.requestCompleted({
    service: "web",
    method: "GET",
    status: 429,
    durationSeconds: 0.0001,
    rateLimited: true,
  })
  hub.requestCompleted({
    service: "web",
    method: "GET",
    status: 503,
    durationSeconds: 0.0001,
    refusedBy: "breaker_open",
  })
  hub.breakerChanged("web", "open")
  hub.breakerChanged("web", "half_open")
  // A resource sample of the service's tree (taken every 2 s).
  await until("web's usage is sampled", () => api.sam.unitStatus("web").instances[0]?.lastUsage !== undefined)
  await until("a health check failed and passed (web's first checks race its listen)", () =>
    api.sam.records("web")[0]!.health.some((h) => h.ok),
  )
})

afterAll(async () => {
  expect(await api.close()).toEqual([])
  removeScratch()
})

const scrape = async (as: "watcher" | "ops" | "none" = "watcher") => {
  const response = await api.fetch("/metrics", { as: as === "none" ? undefined : as })
  return { response, text: await response.text() }
}

describe("GET /metrics", () => {
  it("is Prometheus text that promtool check metrics accepts, with units, probes, gateway traffic and invocations present", async () => {
    const { response, text } = await scrape()
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    for (const name of [
      "sam_unit_ready",
      "sam_health_check_duration_seconds_bucket",
      "sam_gateway_requests_total",
      "sam_capability_invocations_total",
    ])
      expect(text).toContain(`\n${name}{`)
    const check = promtoolCheck(text)
    expect(check.output).toBe("")
    expect(check.code).toBe(0)
  })

  it("carries the named series with their label sets", async () => {
    const found = families((await scrape()).text)
    const expected: Record<string, { type: string; labels: ReadonlyArray<string> }> = {
      sam_unit_ready: { type: "gauge", labels: ["instance,kind,unit"] },
      sam_unit_state: { type: "gauge", labels: ["instance,kind,state,unit"] },
      // At 0 from the first scrape for every unit, not from its first restart (increase() needs it).
      sam_unit_restarts_total: { type: "counter", labels: ["kind,reason,unit"] },
      sam_unit_resident_memory_bytes: { type: "gauge", labels: ["instance,kind,unit"] },
      sam_unit_cpu_seconds_total: { type: "counter", labels: ["instance,kind,unit"] },
      sam_health_check_duration_seconds: { type: "histogram", labels: ["kind,probe,result,unit"] },
      sam_gateway_requests_total: { type: "counter", labels: ["code_class,method,service"] },
      sam_gateway_request_duration_seconds: { type: "histogram", labels: ["code_class,method,service"] },
      sam_gateway_time_to_first_byte_seconds: { type: "histogram", labels: ["method,service"] },
      sam_gateway_breaker_state: { type: "gauge", labels: ["service,state"] },
      sam_gateway_breaker_transitions_total: { type: "counter", labels: ["service,state"] },
      sam_gateway_rate_limited_total: { type: "counter", labels: ["service"] },
      sam_gateway_retries_total: { type: "counter", labels: ["service"] },
      sam_gateway_refused_total: { type: "counter", labels: ["reason,service"] },
      sam_capability_invocations_total: { type: "counter", labels: ["capability,result"] },
      sam_capability_duration_seconds: { type: "histogram", labels: ["capability,result"] },
      sam_crashes_total: { type: "counter", labels: ["failure,kind,unit"] },
      sam_alerts_firing: { type: "gauge", labels: [] },
      sam_event_loop_lag_seconds: { type: "gauge", labels: [""] },
      sam_watchdog_check_ok: { type: "gauge", labels: ["check"] },
      sam_stuck_instances: { type: "gauge", labels: [""] },
      // SAM's own process, under prom-client's usual names.
      process_cpu_seconds_total: { type: "counter", labels: [""] },
      process_resident_memory_bytes: { type: "gauge", labels: [""] },
      nodejs_heap_size_used_bytes: { type: "gauge", labels: [""] },
      nodejs_eventloop_lag_seconds: { type: "gauge", labels: [""] },
    }
    for (const [name, { type, labels }] of Object.entries(expected)) {
      const family = found.get(name)
      expect(family, name).toBeDefined()
      expect(family?.type, name).toBe(type)
      expect([...(family?.labelSets ?? [])], name).toEqual(labels)
    }
    // Defaults promtool rejects (gauges named _total) are left out.
    expect(found.has("nodejs_active_handles_total")).toBe(false)
    expect(found.has("nodejs_active_handles")).toBe(true)

    const value = (name: string, labels: Record<string, string>) =>
      found
        .get(name.replace(/_(count|sum|bucket)$/, ""))
        ?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value
    const web = { unit: "web", kind: "service", instance: "0" }
    expect(value("sam_unit_ready", web)).toBe(1)
    expect(value("sam_unit_state", { ...web, state: "running" })).toBe(1)
    expect(value("sam_unit_state", { ...web, state: "stopped" })).toBe(0)
    expect(value("sam_unit_ready", { unit: "helper", kind: "agent", instance: "0" })).toBe(1)
    expect(value("sam_unit_resident_memory_bytes", web)).toBeGreaterThan(1024 * 1024)
    expect(
      value("sam_health_check_duration_seconds_count", { unit: "web", probe: "http", result: "ok" }),
    ).toBeGreaterThan(0)
    expect(value("sam_capability_invocations_total", { capability: "echo", result: "ok" })).toBe(2)
    expect(
      value("sam_capability_invocations_total", { capability: "no_such_capability", result: "not_found" }),
    ).toBe(1)
    expect(value("sam_gateway_requests_total", { service: "web", method: "GET", code_class: "2xx" })).toBe(1)
    expect(value("sam_gateway_requests_total", { service: "web", method: "POST", code_class: "5xx" })).toBe(1)
    expect(value("sam_gateway_requests_total", { service: "web", method: "OTHER", code_class: "none" })).toBe(
      1,
    )
    expect(value("sam_gateway_requests_total", { service: "web", method: "GET", code_class: "4xx" })).toBe(1)
    expect(value("sam_gateway_rate_limited_total", { service: "web" })).toBe(1)
    expect(value("sam_gateway_retries_total", { service: "web" })).toBe(2)
    expect(value("sam_gateway_refused_total", { service: "web", reason: "breaker_open" })).toBe(1)
    expect(value("sam_gateway_time_to_first_byte_seconds_count", { service: "web", method: "POST" })).toBe(1)
    expect(value("sam_gateway_breaker_state", { service: "web", state: "half_open" })).toBe(1)
    expect(value("sam_gateway_breaker_state", { service: "web", state: "open" })).toBe(0)
    expect(value("sam_gateway_breaker_transitions_total", { service: "web", state: "open" })).toBe(1)
  })

  it("counts restarts by reason and crashes by failure as they happen", async () => {
    const pid = api.sam.unitStatus("web").pid as number
    process.kill(pid, "SIGKILL")
    await api.sam.until("web", (s) => s.pid !== pid && s.ready)
    await api.sam.services.restart("web")
    const found = families((await scrape()).text)
    const ofWeb = (name: string) => (found.get(name)?.samples ?? []).filter((s) => s.labels.unit === "web")
    const restarts = ofWeb("sam_unit_restarts_total")
    expect(restarts.map((s) => [s.labels.reason, s.value]).sort()).toEqual([
      ["exit", 1],
      ["requested", 1],
    ])
    expect(restarts[0]?.labels).toMatchObject({ unit: "web", kind: "service" })
    expect(ofWeb("sam_crashes_total").map((s) => [s.labels, s.value])).toEqual([
      [{ unit: "web", kind: "service", failure: "exit" }, 1],
    ])
    // Every other unit's are there at 0: the first restart of one is an increase() too.
    const others = (found.get("sam_unit_restarts_total")?.samples ?? []).filter(
      (s) => s.labels.unit !== "web",
    )
    expect(others.length).toBeGreaterThan(0)
    for (const s of others) expect(s.value).toBe(0)
  })

  it("needs a viewer token (or more) like every other read", async () => {
    const refused = await scrape("none")
    expect(refused.response.status).toBe(401)
    expect(refused.response.headers.get("www-authenticate")).toBe('Bearer realm="sam"')
    expect((await scrape("ops")).response.status).toBe(200)
  })

  it("feeds plugins' metric sinks the same samples", async () => {
    await until("a metric sink received samples", () => received.length > 0)
    const names = new Set(received.at(-1)?.map((s) => s.name))
    expect(names.has("sam_unit_ready")).toBe(true)
    expect(names.has("sam_health_check_duration_seconds_bucket")).toBe(true)
    expect(names.has("process_cpu_seconds_total")).toBe(true)
    const helper = received.flat().filter((s) => s.name === "sam_unit_ready" && s.labels?.unit === "helper")
    expect(helper.at(-1)).toMatchObject({
      type: "gauge",
      value: 1,
      labels: { unit: "helper", kind: "agent", instance: "0" },
    })
  })
})

describe("a unit's history", () => {
  it("is served as [time, value] series of CPU, memory and requests per second", async () => {
    hub.requestCompleted({ service: "web", method: "GET", status: 200, durationSeconds: 0.01 })
    await until("two points of web's history", async () => {
      const body = (await (await api.fetch("/api/services/web/metrics", { as: "watcher" })).json()) as {
        series: { memory_bytes: unknown[] }
      }
      return body.series.memory_bytes.length >= 2
    })
    const web = await withClient(api.url, api.token("watcher"), (c) =>
      c.services.metrics({ params: { id: "web" } }),
    )
    expect(web.id).toBe("web")
    expect(web.interval_seconds).toBe(0.1)
    for (const series of Object.values(web.series))
      for (const [t, v] of series) {
        expect(t).toBeGreaterThan(Date.parse("2026-01-01"))
        expect(v).toBeGreaterThanOrEqual(0)
      }
    expect(web.series.memory_bytes.some(([, v]) => v > 1024 * 1024)).toBe(true)
    expect(web.series.requests_per_second.some(([, v]) => v > 0)).toBe(true)

    await api.sam.invoke("echo", { hello: 3 })
    await until("an agent's invocations in its history", async () => {
      const h = await withClient(api.url, api.token("watcher"), (c) =>
        c.agents.metrics({ params: { id: "helper" } }),
      )
      return h.series.requests_per_second.some(([, v]) => v > 0)
    })
  })

  it("is a 404 for a unit of the other kind, naming what exists", async () => {
    const response = await api.fetch("/api/services/helper/metrics", { as: "watcher" })
    expect(response.status).toBe(404)
    expect(((await response.json()) as { detail: string }).detail).toContain(
      '"helper" is an agent, not a service',
    )
  })
})

describe("GET /api/status", () => {
  it("has the watchdog's findings, and its health counts them", async () => {
    await api.sam.until("web", (s) => s.ready)
    const status = await withClient(api.url, api.token("watcher"), (c) => c.system.status())
    expect(status.watchdog?.findings.map((f) => f.check)).toEqual([
      "event_loop",
      "memory",
      "stuck_transitions",
      "reaper",
    ])
    expect(status.watchdog?.rss_bytes).toBeGreaterThan(0)
    expect(status.watchdog?.reaper?.alive).toBe(true)
    expect(status.watchdog?.stuck).toEqual([])
    expect(status.health).toBe(
      status.watchdog?.findings.every((f) => f.status === "ok") ? "healthy" : "degraded",
    )
  })
})

describe("monitoring.metrics settings", () => {
  it("path moves the endpoint, and public: true lets a loopback client in without a credential", async () => {
    const moved = await startApi([], {
      monitoring: (sam) => new Monitoring(sam, { metrics: { path: "/prom/metrics", public: true } }),
    })
    try {
      const open = await moved.fetch("/prom/metrics")
      expect(open.status).toBe(200)
      expect(await open.text()).toContain("# TYPE sam_alerts_firing gauge")
      const old = await moved.fetch("/metrics", { as: "watcher" })
      expect(old.status).toBe(404)
      expect(((await old.json()) as { detail: string }).detail).toBe(
        "no route GET /metrics; metrics are served at /prom/metrics",
      )
      // Only the metrics path is public: the rest of the API still wants a token.
      expect((await moved.fetch("/api/status")).status).toBe(401)
    } finally {
      expect(await moved.close()).toEqual([])
    }
  })

  it("enabled: false makes the path a 404 that says why", async () => {
    const off = await startApi([], {
      monitoring: (sam) => new Monitoring(sam, { metrics: { enabled: false } }),
    })
    try {
      const response = await off.fetch("/metrics", { as: "watcher" })
      expect(response.status).toBe(404)
      expect(((await response.json()) as { detail: string }).detail).toBe(
        "metrics are turned off (monitoring.metrics.enabled: false)",
      )
    } finally {
      expect(await off.close()).toEqual([])
    }
  })
})
