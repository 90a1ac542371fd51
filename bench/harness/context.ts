// What every bench step gets: the run's options, the cleanup registry, temp dirs removed at the
// end, and where SAM and Node are. run.ts builds one per run; steps.ts lists the steps.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Cleanup } from "./cleanup.ts"
import type { Figure } from "./figure.ts"

export interface BenchOptions {
  /** Service counts of the supervisor step (default 20 and 50). */
  readonly counts: ReadonlyArray<number>
  /** SIGKILLs per service count and repeat (≥ 10 for the published figures). */
  readonly kills: number
  /** Full start/measure/stop rounds per tool and count; figures are medians over them. */
  readonly repeats: number
  /** Inline agents started and stopped at once. */
  readonly inlineAgents: number
  /** Sequential invocations of the round-trip measurement. */
  readonly invokeCalls: number
  /** Install PM2 7 into a temp dir and measure it (needs the npm registry). */
  readonly pm2: boolean
  /** Supervisor tools to measure, by id (raw, sam, sam-lib, pm2); undefined: all. */
  readonly tools: ReadonlyArray<string> | undefined
  /** Run SAM from src/ (TypeScript) instead of the build: for the harness's own test. */
  readonly fromSources: boolean
  /** How long a supervisor is left alone after its cold start before its memory is read. */
  readonly settleMs: number
  readonly cliRounds: number
  readonly logsSeconds: number
  /** Seconds per wrk run and rounds of the gateway step. */
  readonly gatewaySeconds: number
  readonly gatewayRounds: number
  /** The CPU window of the metrics step, seconds. */
  readonly metricsSeconds: number
}

export interface BenchContext {
  readonly options: BenchOptions
  readonly cleanup: Cleanup
  /** The repository root. */
  readonly root: string
  /** The project's Node (node_modules/.bin/node: the bench runs on it). */
  readonly node: string
  /** A progress line on stderr (the table goes to stdout). */
  log(line: string): void
  /** A fresh temp dir, removed at cleanup. */
  tempDir(prefix: string): string
}

export interface BenchStep {
  /** What `npm run bench -- <name>` selects. */
  readonly name: string
  readonly summary: string
  /** Needs `npm run build` (the compiled CLI); skipped with a note in --from-sources mode. */
  readonly needsBuild?: boolean
  run(context: BenchContext): Promise<ReadonlyArray<Figure>>
}

export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url))

export const makeContext = (
  options: BenchOptions,
  cleanup: Cleanup,
  log: (line: string) => void,
): BenchContext => ({
  options,
  cleanup,
  root: repoRoot,
  node: process.execPath,
  log,
  tempDir: (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), `sam-bench-run-${prefix}-`))
    cleanup.add(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }))
    return dir
  },
})
