// Metrics cost. (1) Scrape time and size of GET /metrics through the control API with 100 units
// (external services with HTTP checks, gateway traffic of four status classes each, and capability
// series). (2) SAM's own CPU with 1,000 HTTP health checks at a 1 s interval: 1,000 external
// services whose checks hit distinct paths of one tiny HTTP server in a child process (its CPU is
// not SAM's), SAM's process.cpuUsage() over a bounded window, with monitoring on (every probe
// observed into the histogram) and off. Run: node bench/metrics.bench.ts [windowSeconds]
import { type ChildProcess, spawn } from "node:child_process"
import { startApiServer } from "../src/api/apiServer.ts"
import { GatewayMetricsHub } from "../src/metrics/gatewaySource.ts"
import { Monitoring } from "../src/metrics/monitoring.ts"
import { Sam } from "../src/runtime/sam.ts"
import { defaultRestart, defaultStop, type UnitSpec } from "../src/runtime/unitSpec.ts"
import { median, ms } from "./support.ts"

const windowSeconds = Number(process.argv[2] ?? 20)
/** `npm run bench`'s metrics step: print {"figures": [...]} last (bench/harness/scriptStep.ts). */
const json = process.argv.includes("--json")

/** One process serving 200 on every path: the health checks' target. */
const startTarget = async (): Promise<{ child: ChildProcess; port: number }> => {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:http").createServer((q, r) => r.end("ok")); s.listen(0, "127.0.0.1", () => console.log(s.address().port))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  )
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  )
  return { child, port }
}

const externalUnits = (count: number, port: number): UnitSpec[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `svc${i}`,
    kind: "service" as const,
    runtime: "external",
    group: "services",
    dependsOn: [],
    dependencyRestart: "none" as const,
    instances: 1,
    externalUrl: `http://127.0.0.1:${port}/u${i}`,
    restart: defaultRestart,
    stop: defaultStop,
    probes: [
      {
        type: "http",
        endpoint: "/health",
        intervalMs: 1_000,
        timeoutMs: 1_000,
        failureThreshold: 3,
        successThreshold: 1,
        startPeriodMs: 0,
        role: "readiness" as const,
      },
    ],
  }))

const allReady = (sam: Sam) => sam.status().units.every((u) => u.ready)

const waitReady = async (sam: Sam) => {
  const deadline = Date.now() + 60_000
  while (!allReady(sam)) {
    if (Date.now() > deadline) throw new Error("units did not become ready within 60 s")
    await new Promise((r) => setTimeout(r, 50))
  }
}

const scrapeBench = async (port: number) => {
  const sam = new Sam({ units: externalUnits(100, port), containment: false })
  const hub = new GatewayMetricsHub()
  const monitoring = new Monitoring(sam, { gateway: hub }).start()
  // The control API always needs a credential: a local admin token, sent with every scrape.
  const token = "metrics-bench-local-token-0123456789"
  const server = await startApiServer({ sam, port: 0, monitoring, localToken: token })
  await sam.start()
  await waitReady(sam)
  for (let i = 0; i < 100; i++)
    for (const status of [200, 404, 503, 0])
      hub.requestCompleted({
        service: `svc${i}`,
        method: "GET",
        status,
        durationSeconds: 0.02,
        ttfbSeconds: 0.01,
      })
  await new Promise((r) => setTimeout(r, 2_000)) // a couple of checks per unit in the histogram
  const times: number[] = []
  let bytes = 0
  let lines = 0
  for (let i = 0; i < 21; i++) {
    const began = performance.now()
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`)
    const text = await response.text()
    times.push(performance.now() - began)
    bytes = Buffer.byteLength(text)
    lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length
  }
  monitoring.close()
  await sam.stop()
  await server.close()
  return { median: median(times.slice(1)), bytes, lines }
}

const cpuBench = async (port: number, withMonitoring: boolean) => {
  const sam = new Sam({ units: externalUnits(1_000, port), containment: false })
  const monitoring = withMonitoring ? new Monitoring(sam).start() : undefined
  let checks = 0
  const off = sam.observeProbes(() => {
    checks++
  })
  await sam.start()
  await waitReady(sam)
  await new Promise((r) => setTimeout(r, 3_000)) // settle into the 1 s rhythm
  checks = 0
  const cpu = process.cpuUsage()
  const began = performance.now()
  await new Promise((r) => setTimeout(r, windowSeconds * 1_000))
  const used = process.cpuUsage(cpu)
  const elapsed = (performance.now() - began) / 1_000
  const seen = checks
  off()
  monitoring?.close()
  await sam.stop()
  const share = (used.user + used.system) / 1e6 / elapsed
  return { share, checksPerSecond: seen / elapsed, usPerCheck: (used.user + used.system) / seen }
}

const main = async () => {
  const target = await startTarget()
  try {
    const scrape = await scrapeBench(target.port)
    console.log(
      `scrape with 100 units: median ${ms(scrape.median)} over 20 scrapes, ${(scrape.bytes / 1024).toFixed(1)} KiB, ${scrape.lines} samples`,
    )
    const off = await cpuBench(target.port, false)
    const on = await cpuBench(target.port, true)
    if (json)
      console.log(
        JSON.stringify({
          figures: [
            {
              step: "metrics",
              name: "GET /metrics, 100 units",
              subject: "scrape time",
              value: scrape.median,
              unit: "ms",
            },
            {
              step: "metrics",
              name: "GET /metrics, 100 units",
              subject: "size",
              value: scrape.bytes / 1024,
              unit: "KB",
            },
            ...(
              [
                ["monitoring off", off],
                ["monitoring on", on],
              ] as const
            ).map(([subject, r]) => ({
              step: "metrics",
              name: "SAM's CPU, 1,000 HTTP checks at 1 s (% of one core)",
              subject,
              value: r.share * 100,
              unit: "%",
              ...(subject === "monitoring on" ? { target: { kind: "at-most", value: 10 } } : {}),
            })),
          ],
        }),
      )
    for (const [name, r] of [
      ["monitoring off", off],
      ["monitoring on", on],
    ] as const)
      console.log(
        `1,000 HTTP checks at 1 s, ${name}: SAM used ${(r.share * 100).toFixed(1)} % of one core over ${windowSeconds} s ` +
          `(${r.checksPerSecond.toFixed(0)} checks/s, ${r.usPerCheck.toFixed(0)} µs CPU per check; target ≤ 10 %)`,
      )
  } finally {
    target.child.kill("SIGKILL")
  }
}

await main()
