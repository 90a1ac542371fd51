// Run by the agents step in a child process of its own (its heap is the measurement):
//   node --expose-gc bench/agents/inlineScale.ts <agents> <calls> <dist|sources>
// 1. <agents> inline agents under one Sam: start until all ready, stop until all stopped; heap and
//    RSS growth per agent after a forced GC; lifecycle transitions per second (below).
// 2. One sequential `invoke("echo")` round trip: inline, worker (a thread), sandbox (a child over
//    IPC), <calls> calls each after 500 warm-up calls.
// Prints {"figures": [...]} (harness/scriptStep.ts's contract) as its last line.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { Sam as SamClass } from "../../src/runtime/sam.ts"
import type { RuntimeKind, UnitSpec } from "../../src/runtime/unitSpec.ts"
import type { Figure } from "../harness/figure.ts"

const [agentsArg, callsArg, from] = process.argv.slice(2)
const agents = Number(agentsArg ?? 10_000)
const calls = Number(callsArg ?? 5_000)
const root = fileURLToPath(new URL("../..", import.meta.url))
const sources = from === "sources"
const load = (dist: string, src: string) => import(pathToFileURL(join(root, sources ? src : dist)).href)
const { Sam } = (await load("dist/runtime/sam.js", "src/runtime/sam.ts")) as { Sam: typeof SamClass }
const { defaultRestart, defaultStop } = (await load(
  "dist/runtime/unitSpec.js",
  "src/runtime/unitSpec.ts",
)) as typeof import("../../src/runtime/unitSpec.ts")
const agentPath = join(root, "bench", "fixtures", sources ? "benchAgent.ts" : "idleAgent.mjs")
const scratch = mkdtempSync(join(tmpdir(), "sam-bench-inline-"))
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error("run with node --expose-gc (the agents step does)")

const unit = (id: string, runtime: RuntimeKind): UnitSpec => ({
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
    capabilities: ["echo"],
    network: false,
    heartbeatIntervalMs: 5_000,
    heartbeatTtlMs: 15_000,
    dataDir: join(scratch, id),
    config: {},
  },
})

const inlineAtScale = async () => {
  gc()
  const before = process.memoryUsage()
  const units = Array.from({ length: agents }, (_, i) => unit(`inline-${i}`, "inline"))
  const sam = new Sam({ units, startTimeoutMs: 600_000, recentLines: 10, containment: false, reaper: false })
  let transitions = 0
  const off = sam.events.subscribe((event) => {
    if (event.type === "transition") transitions++
  })
  let began = performance.now()
  const report = await sam.start()
  const startMs = performance.now() - began
  const startTransitions = transitions
  if (report.ready.length !== agents)
    throw new Error(`only ${report.ready.length} of ${agents} inline agents ready`)
  gc()
  const during = process.memoryUsage()
  began = performance.now()
  await sam.stop()
  const stopMs = performance.now() - began
  off()
  return {
    startMs,
    stopMs,
    heapPerAgent: (during.heapUsed - before.heapUsed) / agents,
    rssPerAgent: (during.rss - before.rss) / agents,
    transitions,
    startTransitions,
  }
}

const roundTrip = async (runtime: RuntimeKind) => {
  const sam = new Sam({ units: [unit(`rt-${runtime}`, runtime)], containment: false, reaper: false })
  await sam.start()
  try {
    for (let i = 0; i < 500; i++) await sam.invoke("echo", { i })
    const began = performance.now()
    for (let i = 0; i < calls; i++) await sam.invoke("echo", { i, text: "hello" })
    return ((performance.now() - began) * 1000) / calls
  } finally {
    await sam.stop()
  }
}

try {
  const scale = await inlineAtScale()
  const inline = await roundTrip("inline")
  const worker = await roundTrip("worker")
  const sandbox = await roundTrip("sandbox")
  const step = "agents"
  const name = (what: string) => `${what}, ${agents.toLocaleString("en")} inline agents`
  const transitionsPerSecond = scale.transitions / ((scale.startMs + scale.stopMs) / 1000)
  const figures: Figure[] = [
    { step, name: name("start until all ready"), subject: "SAM", value: scale.startMs, unit: "ms" },
    { step, name: name("stop until all stopped"), subject: "SAM", value: scale.stopMs, unit: "ms" },
    {
      step,
      name: name("heap per agent"),
      subject: "SAM",
      value: scale.heapPerAgent / 1024,
      unit: "KB",
      target: { kind: "at-most", value: 10 },
      note: "growth of the JS heap (after a forced GC) with every agent running, divided by the agent count",
    },
    { step, name: name("RSS per agent"), subject: "SAM", value: scale.rssPerAgent / 1024, unit: "KB" },
    {
      step,
      name: name("lifecycle transitions/s"),
      subject: "SAM",
      value: transitionsPerSecond,
      unit: "/s",
      target: { kind: "at-least", value: 100_000 },
      note:
        `lifecycle state changes of all agents (each a "transition" event on SAM's bus: ${scale.startTransitions} ` +
        `while starting, ${scale.transitions - scale.startTransitions} while stopping), divided by the wall time of start + stop`,
    },
    { step, name: "invoke round trip", subject: "inline", value: inline, unit: "µs" },
    {
      step,
      name: "invoke round trip",
      subject: "worker",
      value: worker,
      unit: "µs",
      baseline: { subject: "inline", value: inline },
    },
    {
      step,
      name: "invoke round trip",
      subject: "sandbox (IPC)",
      value: sandbox,
      unit: "µs",
      baseline: { subject: "inline", value: inline },
      note: `${calls} sequential sam.invoke("echo") calls after 500 warm-up calls`,
    },
  ]
  console.log(JSON.stringify({ figures }))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
