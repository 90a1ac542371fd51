// Agent benchmarks: `node bench/agents.bench.ts` (results go in docs/BENCHMARKS.md, "Agents").
//  1. 10,000 inline agents started and stopped under supervision: time, memory per agent,
//     invocations per second through the capability router.
//  2. Round trip of one IPC invoke (sandbox child) against an inline one, as a ratio.
//  3. The CPU share a burning agent gets with max_cpu_percent 25 (duty cycle or cgroup v2).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { cpuMillis } from "../src/runtime/os/proc.ts"
import { Sam } from "../src/runtime/sam.ts"
import { defaultRestart, defaultStop, type RuntimeKind, type UnitSpec } from "../src/runtime/unitSpec.ts"

const agentPath = fileURLToPath(new URL("./fixtures/benchAgent.ts", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "sam-bench-agents-"))

const unit = (
  id: string,
  runtime: RuntimeKind,
  extra: Partial<NonNullable<UnitSpec["agent"]>> = {},
): UnitSpec => ({
  id,
  kind: "agent",
  runtime,
  group: "agents",
  dependsOn: [],
  dependencyRestart: "none",
  instances: 1,
  probes: [],
  restart: defaultRestart,
  stop: { ...defaultStop, graceMs: 2_000 },
  agent: {
    path: agentPath,
    securityProfile: "standard",
    environment: {},
    capabilities: ["echo", "burn"],
    network: false,
    heartbeatIntervalMs: 1_000,
    heartbeatTtlMs: 5_000,
    dataDir: join(scratch, id),
    config: {},
    ...extra,
  },
})

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
// A full GC before each memory reading, without requiring --expose-gc on the command line.
setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const inlineAtScale = async (count: number) => {
  gc()
  const before = process.memoryUsage()
  const units = Array.from({ length: count }, (_, i) => unit(`inline-${i}`, "inline"))
  const sam = new Sam({ units, startTimeoutMs: 600_000, recentLines: 10 })
  let began = performance.now()
  const report = await sam.start()
  const startMs = performance.now() - began
  gc()
  const during = process.memoryUsage()
  if (report.ready.length !== count) throw new Error(`only ${report.ready.length} of ${count} ready`)

  const calls = 20_000
  began = performance.now()
  const batch = 100
  for (let i = 0; i < calls; i += batch) {
    await Promise.all(Array.from({ length: batch }, (_, j) => sam.invoke("echo", i + j)))
  }
  const invokeMs = performance.now() - began

  began = performance.now()
  await sam.stop()
  const stopMs = performance.now() - began
  console.log(`inline agents: ${count}`)
  console.log(
    `  start (all ready):   ${(startMs / 1000).toFixed(2)} s (${((startMs * 1000) / count).toFixed(0)} µs/agent)`,
  )
  console.log(`  stop (all stopped):  ${(stopMs / 1000).toFixed(2)} s`)
  console.log(
    `  memory per agent:    ${((during.heapUsed - before.heapUsed) / count / 1024).toFixed(1)} KB heap, ` +
      `${((during.rss - before.rss) / count / 1024).toFixed(1)} KB RSS (RSS +${mb(during.rss - before.rss)} MB)`,
  )
  console.log(
    `  invocations/s:       ${Math.round(calls / (invokeMs / 1000))} (batches of ${batch}, ${count} providers)`,
  )
}

const roundTrip = async (runtime: RuntimeKind, calls: number) => {
  const sam = new Sam({ units: [unit(`rt-${runtime}`, runtime)] })
  await sam.start()
  for (let i = 0; i < 500; i++) await sam.invoke("echo", { i }) // warm up
  const began = performance.now()
  for (let i = 0; i < calls; i++) await sam.invoke("echo", { i, text: "hello" })
  const perCallUs = ((performance.now() - began) * 1000) / calls
  await sam.stop()
  return perCallUs
}

const cpuShare = async (percent: number | undefined, seconds: number) => {
  const id = `burner-${percent ?? "free"}`
  const sam = new Sam({
    units: [unit(id, "sandbox", percent === undefined ? {} : { maxCpuPercent: percent })],
  })
  await sam.start()
  const pid = sam.agents.status(id).pid as number
  await sam.invoke("burn", {})
  await new Promise((resolve) => setTimeout(resolve, 500)) // settle into the duty cycle
  const cpu0 = cpuMillis(pid) ?? 0
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const share = (((cpuMillis(pid) ?? 0) - cpu0) / (performance.now() - t0)) * 100
  const restarts = sam.agents.status(id).restarts
  await sam.stop()
  return { share, restarts }
}

const main = async () => {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`)
  await inlineAtScale(Number(process.env.SAM_BENCH_AGENTS ?? 10_000))

  const calls = 5_000
  const inline = await roundTrip("inline", calls)
  const ipc = await roundTrip("sandbox", calls)
  const worker = await roundTrip("worker", calls)
  console.log(`round trip of one invoke (${calls} sequential calls, echo of a small object):`)
  console.log(`  inline:  ${inline.toFixed(1)} µs`)
  console.log(`  worker:  ${worker.toFixed(1)} µs (${(worker / inline).toFixed(1)}x inline)`)
  console.log(`  sandbox: ${ipc.toFixed(1)} µs (${(ipc / inline).toFixed(1)}x inline)  <- IPC / inline ratio`)

  const free = await cpuShare(undefined, 5)
  const limited = await cpuShare(25, 5)
  console.log("CPU share of a burning sandbox agent over 5 s (of one core):")
  console.log(`  no limit:              ${free.share.toFixed(1)} %`)
  console.log(
    `  max_cpu_percent 25:    ${limited.share.toFixed(1)} % (restarts during the run: ${limited.restarts})`,
  )
}

try {
  await main()
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
