// `npm run bench`: SAM's figures side by side with PM2 7 and the raw floor, in one bounded run on
// loopback. Runs the steps of steps.ts (all, or those named), prints one table of figures, ratios,
// targets and pass/miss, and appends a row per figure to bench/RESULTS.md.
//   npm run bench                          every step, published settings (builds first)
//   npm run bench -- --quick               one round each, fewer calls (a few minutes)
//   npm run bench -- supervisor agents     only these steps
//   node bench/run.ts --help               every option
import { existsSync } from "node:fs"
import { availableParallelism, loadavg } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Cleanup } from "./harness/cleanup.ts"
import { type BenchOptions, makeContext, repoRoot } from "./harness/context.ts"
import type { Figure } from "./harness/figure.ts"
import { appendResults } from "./harness/results.ts"
import { renderTable } from "./harness/table.ts"
import { steps } from "./steps.ts"

const usage = `Usage: npm run bench -- [options] [step ...]

Steps: ${steps.map((s) => `${s.name} (${s.summary})`).join("; ")}

Options:
  --quick              one round per tool, fewer calls and rounds (same figures, wider noise)
  --counts <n,n>       service counts of the supervisor step (default 20,50)
  --kills <n>          SIGKILLs per count and round (default 10)
  --repeats <n>        rounds per tool and count (default 3; --quick 1)
  --inline <n>         inline agents started at once (default 10000)
  --calls <n>          sequential invokes of the round-trip measurement (default 5000; --quick 2000)
  --settle <ms>        wait before reading a supervisor's memory (default 3000; --quick 2000)
  --cli-rounds <n>     runs per command of the cli step (default 20; --quick 10)
  --logs-seconds <n>   flood length of the logs step (default 10; --quick 5)
  --gateway-seconds <n> seconds per wrk run of the gateway step (default 3; --quick 2)
  --gateway-rounds <n> rounds of the gateway step (default 3; --quick 1)
  --metrics-seconds <n> CPU window of the metrics step (default 10; --quick 5)
  --tools <ids>        supervisor tools to measure: raw,sam,sam-lib,pm2 (default all)
  --no-pm2             do not install and measure PM2 (no network needed)
  --from-sources       run SAM from src/ instead of the build (the harness's own test)
  --results <file>     where rows are appended (default bench/RESULTS.md)
  --no-results         print the table only
  -h, --help           this help`

const parsed = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: "boolean", default: false },
    counts: { type: "string" },
    kills: { type: "string" },
    repeats: { type: "string" },
    inline: { type: "string" },
    calls: { type: "string" },
    settle: { type: "string" },
    "cli-rounds": { type: "string" },
    "logs-seconds": { type: "string" },
    "gateway-seconds": { type: "string" },
    "gateway-rounds": { type: "string" },
    "metrics-seconds": { type: "string" },
    tools: { type: "string" },
    "no-pm2": { type: "boolean", default: false },
    "from-sources": { type: "boolean", default: false },
    results: { type: "string" },
    "no-results": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
})
const flags = parsed.values
if (flags.help) {
  console.log(usage)
  process.exit(0)
}

const count = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) {
    console.error(`bench: --${name} takes a whole number, not "${text}"`)
    process.exit(2)
  }
  return n
}

const quick = flags.quick
const options: BenchOptions = {
  counts: (flags.counts ?? "20,50").split(",").map((n) => count("counts", n, 0)),
  kills: count("kills", flags.kills, 10),
  repeats: Math.max(1, count("repeats", flags.repeats, quick ? 1 : 3)),
  inlineAgents: count("inline", flags.inline, 10_000),
  invokeCalls: count("calls", flags.calls, quick ? 2_000 : 5_000),
  settleMs: count("settle", flags.settle, quick ? 2_000 : 3_000),
  cliRounds: count("cli-rounds", flags["cli-rounds"], quick ? 10 : 20),
  logsSeconds: count("logs-seconds", flags["logs-seconds"], quick ? 5 : 10),
  gatewaySeconds: Math.max(1, count("gateway-seconds", flags["gateway-seconds"], quick ? 2 : 3)),
  gatewayRounds: Math.max(1, count("gateway-rounds", flags["gateway-rounds"], quick ? 1 : 3)),
  metricsSeconds: Math.max(1, count("metrics-seconds", flags["metrics-seconds"], quick ? 5 : 10)),
  pm2: !flags["no-pm2"] && (flags.tools === undefined || flags.tools.split(",").includes("pm2")),
  tools: flags.tools?.split(","),
  fromSources: flags["from-sources"],
}

const unknown = parsed.positionals.filter((name) => !steps.some((s) => s.name === name))
if (unknown.length > 0) {
  console.error(
    `bench: no step ${unknown.map((n) => `"${n}"`).join(", ")}; steps: ${steps.map((s) => s.name).join(", ")}`,
  )
  process.exit(2)
}
const selected =
  parsed.positionals.length > 0 ? steps.filter((s) => parsed.positionals.includes(s.name)) : steps
const runnable = selected.filter((s) => !(options.fromSources && s.needsBuild && s.name !== "supervisor"))
if (
  !options.fromSources &&
  selected.some((s) => s.needsBuild) &&
  !existsSync(join(repoRoot, "dist", "bundle", "sam.js"))
) {
  console.error(
    "bench: the compiled CLI (dist/bundle/sam.js) is missing: run `npm run build` (npm run bench does)",
  )
  process.exit(2)
}

const log = (line: string) => process.stderr.write(`${line}\n`)
const cleanup = new Cleanup()
const context = makeContext(options, cleanup, log)
const args = process.argv.slice(2)
const command =
  process.env.npm_lifecycle_event === "bench"
    ? `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`
    : `node bench/run.ts${args.length ? ` ${args.join(" ")}` : ""}`
const loadAtStart = loadavg()[0]!

let interrupted = false
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130)
  interrupted = true
  log(`bench: ${signal}: stopping everything the bench started`)
  void cleanup.runAll(log).finally(() => process.exit(130))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

const figures: Figure[] = []
let failed = false
try {
  for (const step of runnable) {
    log(`bench: step ${step.name}: ${step.summary}`)
    const began = performance.now()
    try {
      figures.push(...(await step.run(context)))
    } catch (error) {
      failed = true
      log(
        `bench: step ${step.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
    } finally {
      // Each step leaves nothing running for the next one.
      await cleanup.runAll(log)
    }
    log(`bench: step ${step.name} took ${((performance.now() - began) / 1000).toFixed(1)} s`)
  }
} finally {
  await cleanup.runAll(log)
}
for (const step of selected.filter((s) => !runnable.includes(s)))
  log(`bench: step ${step.name} skipped (it needs the build; --from-sources)`)

const facts = {
  date: new Date().toISOString().slice(0, 16).replace("T", " "),
  cores: availableParallelism(),
  node: process.version,
  load: `${loadAtStart.toFixed(1)}→${loadavg()[0]!.toFixed(1)}`,
  command,
}
console.log(
  `\nSAM bench, ${facts.date} UTC, ${facts.cores} cores, Node ${facts.node}, load ${facts.load}\n${command}\n`,
)
console.log(renderTable(figures))
if (!flags["no-results"] && figures.length > 0) {
  const file = flags.results ?? join(repoRoot, "bench", "RESULTS.md")
  appendResults(file, facts, figures)
  console.log(`\n${figures.length} rows appended to ${file}`)
}
process.exitCode = failed ? 1 : 0
