// A bench script of its own (bench/<name>.bench.ts) as a step: run in a child process with
// `--json`, its last line of output is `{"figures": [Figure, ...]}` (figure.ts), the contract a
// bench must keep to be listed in steps.ts. Its other output is progress, passed on to stderr.
import { spawn } from "node:child_process"
import { join } from "node:path"
import type { BenchContext, BenchOptions, BenchStep } from "./context.ts"
import type { Figure } from "./figure.ts"

export interface ScriptStepSpec {
  readonly name: string
  readonly summary: string
  /** Relative to the repository root, e.g. "bench/cli.bench.ts". */
  readonly script: string
  /** Its arguments before `--json`, bounded for the run's options. */
  readonly args: (options: BenchOptions) => ReadonlyArray<string>
  readonly needsBuild?: boolean
  /** Node flags before the script (e.g. --expose-gc). */
  readonly nodeArgs?: ReadonlyArray<string>
}

const lastJsonLine = (output: string): { figures?: unknown } | undefined => {
  const line = output
    .trimEnd()
    .split("\n")
    .findLast((l) => l.startsWith("{"))
  if (!line) return undefined
  try {
    return JSON.parse(line) as { figures?: unknown }
  } catch {
    return undefined
  }
}

/** Run `node [nodeArgs] script args --json` and take the figures of its last line. */
export const runFigureScript = (
  context: BenchContext,
  script: string,
  args: ReadonlyArray<string>,
  nodeArgs: ReadonlyArray<string> = [],
  fallbackStep = "script",
): Promise<ReadonlyArray<Figure>> =>
  new Promise<ReadonlyArray<Figure>>((resolve, reject) => {
    const child = spawn(context.node, [...nodeArgs, join(context.root, script), ...args, "--json"], {
      cwd: context.root,
      stdio: ["ignore", "pipe", "pipe"],
    })
    const forget = context.cleanup.child(script, child, 15_000)
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk))
    child.once("error", reject)
    child.once("close", (code) => {
      forget()
      const parsed = lastJsonLine(stdout)
      if (code !== 0 || !Array.isArray(parsed?.figures)) {
        reject(
          new Error(`${script} exited ${code} without its {"figures": [...]} line:\n${stdout.slice(-2_000)}`),
        )
        return
      }
      resolve(
        (parsed.figures as Figure[]).map((figure) => ({ ...figure, step: figure.step ?? fallbackStep })),
      )
    })
  })

export const scriptStep = (spec: ScriptStepSpec): BenchStep => ({
  name: spec.name,
  summary: spec.summary,
  ...(spec.needsBuild === undefined ? {} : { needsBuild: spec.needsBuild }),
  run: (context: BenchContext) =>
    runFigureScript(context, spec.script, spec.args(context.options), spec.nodeArgs ?? [], spec.name),
})
