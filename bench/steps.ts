// The steps of `npm run bench`, in the order they run; `npm run bench -- <name> ...` selects some.
// A bench of its own joins with one line: scriptStep({ name, summary, script, args }) — the script
// must print `{"figures": [...]}` as its last line when given --json (harness/scriptStep.ts).
import { agentsStep } from "./agents/agentsStep.ts"
import type { BenchStep } from "./harness/context.ts"
import { scriptStep } from "./harness/scriptStep.ts"
import { supervisorStep } from "./supervisor/supervisorStep.ts"

export const steps: ReadonlyArray<BenchStep> = [
  supervisorStep,
  agentsStep,
  scriptStep({
    name: "cli",
    summary: "sam --version and sam ps against node -e 0",
    script: "bench/cli.bench.ts",
    args: (o) => [String(o.cliRounds)],
    needsBuild: true,
  }),
  scriptStep({
    name: "gateway",
    summary: "the gateway against a bare node:http + undici proxy and nginx (wrk)",
    script: "bench/gateway.bench.ts",
    args: (o) => [String(o.gatewaySeconds), String(o.gatewayRounds)],
  }),
  scriptStep({
    name: "metrics",
    summary: "GET /metrics with 100 units; SAM's CPU with 1,000 HTTP checks at 1 s",
    script: "bench/metrics.bench.ts",
    args: (o) => [String(o.metricsSeconds)],
  }),
  scriptStep({
    name: "logs",
    summary: "log capture lines/s through SAM against child > file",
    script: "bench/logs.bench.ts",
    args: (o) => [String(o.logsSeconds)],
  }),
]
