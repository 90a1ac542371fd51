// Memory of an idle sandboxed agent with bubblewrap's walls against Node's permission model alone:
// `node bench/sandbox.bench.ts 5` (results go in docs/BENCHMARKS.md, "Sandbox"). Each round starts
// one idle `standard` agent per mode, waits for three heartbeats, then reads the resident memory
// of every process of its tree from /proc (what `max_memory_mb` is held against) and of its Node
// alone. The two modes alternate so machine noise hits both alike.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { residentBytes } from "../src/runtime/os/proc.ts"
import { Sam } from "../src/runtime/sam.ts"
import type { SandboxMode } from "../src/runtime/sandboxChoice.ts"
import { defaultRestart, defaultStop, type UnitSpec } from "../src/runtime/unitSpec.ts"

const rounds = Number(process.argv[2] ?? 5)
const agentPath = fileURLToPath(new URL("./fixtures/benchAgent.ts", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "sam-bench-sandbox-"))
const node = realpathSync(process.execPath)

const unit = (id: string): UnitSpec => ({
  id,
  kind: "agent",
  runtime: "sandbox",
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
    heartbeatIntervalMs: 200,
    heartbeatTtlMs: 5_000,
    dataDir: join(scratch, id),
    config: {},
  },
})

/** Every pid of the tree under `pid` (itself included). */
const tree = (pid: number): number[] => {
  const all: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const next = queue.shift() as number
    all.push(next)
    try {
      const children = readFileSync(`/proc/${next}/task/${next}/children`, "utf8").trim()
      if (children !== "") queue.push(...children.split(/\s+/).map(Number))
    } catch {
      // gone
    }
  }
  return all
}

const isNode = (pid: number): boolean => {
  try {
    return realpathSync(`/proc/${pid}/exe`) === node
  } catch {
    return false
  }
}

const measure = async (mode: SandboxMode) => {
  const sam = new Sam({
    units: [unit(`idle-${mode}`)],
    sandbox: { mode },
    startTimeoutMs: 30_000,
    reaper: false,
  })
  try {
    const report = await sam.start()
    if (report.ready.length !== 1)
      throw new Error(`the agent did not start: ${JSON.stringify(report.notReady)}`)
    if ((sam.sandbox.walls !== undefined) !== (mode === "auto"))
      throw new Error(`expected ${mode === "auto" ? "bubblewrap" : "no walls"}: ${sam.sandbox.detail}`)
    await new Promise((resolve) => setTimeout(resolve, 600))
    const pids = tree(sam.agents.status(`idle-${mode}`).pid as number)
    const rss = pids.map((pid) => ({ pid, bytes: residentBytes(pid) ?? 0, node: isNode(pid) }))
    return {
      processes: pids.length,
      tree: rss.reduce((sum, p) => sum + p.bytes, 0),
      node: rss.filter((p) => p.node).reduce((sum, p) => sum + p.bytes, 0),
    }
  } finally {
    await sam.stop()
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

const results: Record<"auto" | "permission-model", Array<Awaited<ReturnType<typeof measure>>>> = {
  auto: [],
  "permission-model": [],
}
try {
  for (let round = 0; round < rounds; round++)
    for (const mode of ["permission-model", "auto"] as const) results[mode].push(await measure(mode))
  for (const [mode, runs] of Object.entries(results)) {
    const label = mode === "auto" ? "bubblewrap + permission model" : "permission model only"
    console.log(
      `${label}: ${runs[0]?.processes} processes; tree RSS median ${mb(median(runs.map((r) => r.tree)))} MB ` +
        `(${mb(Math.min(...runs.map((r) => r.tree)))}-${mb(Math.max(...runs.map((r) => r.tree)))}); ` +
        `Node alone ${mb(median(runs.map((r) => r.node)))} MB`,
    )
  }
  const overhead =
    median(results.auto.map((r) => r.tree)) - median(results["permission-model"].map((r) => r.tree))
  console.log(`walls cost ${mb(overhead)} MB per agent (medians of ${rounds} rounds)`)
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
