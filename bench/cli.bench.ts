// CLI start-up: median wall time of `sam --version` and of `sam ps` against a running SAM, as
// ratios to a bare `node -e 0` measured in the same run, all with this Node and the compiled CLI
// (dist/, what bin/sam.js runs). Appends a row to docs/BENCHMARKS.md ("CLI start-up").
// Run: npm run bench:cli   (builds first), or node bench/cli.bench.ts [rounds] after npm run build.
// With --json (npm run bench's cli step) it prints {"figures": [...]} instead of adding the row.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { median, ms } from "./support.ts"

const rounds = Number(process.argv[2] ?? 20)
const json = process.argv.includes("--json")
const root = fileURLToPath(new URL("..", import.meta.url))
const bin = join(root, "bin", "sam.js")
const benchmarks = join(root, "docs", "BENCHMARKS.md")
const node = process.execPath
/** Only what a shell would pass: no SAM_* variable of this process leaks into the runs. */
const env = { PATH: process.env.PATH, HOME: process.env.HOME }

interface Run {
  readonly ms: number
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const timed = (args: ReadonlyArray<string>, cwd: string): Promise<Run> =>
  new Promise((resolve, reject) => {
    const began = performance.now()
    const child = spawn(node, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once("error", reject)
    child.once("close", (code) => resolve({ ms: performance.now() - began, code, stdout, stderr }))
  })

/** `sam start` in `dir`, resolved once every unit is ready; rejects if it exits or takes 30 s. */
const startSam = (dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const daemon = spawn(node, [bin, "start"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    const deadline = setTimeout(() => {
      daemon.kill("SIGTERM")
      reject(new Error(`sam start was not ready within 30 s:\n${out}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      if (!/units ready in/.test(out)) return
      clearTimeout(deadline)
      daemon.off("exit", onExit)
      resolve(daemon)
    }
    const onExit = (code: number | null) => {
      clearTimeout(deadline)
      reject(new Error(`sam start exited (${code}) before its units were ready:\n${out}`))
    }
    daemon.stdout.on("data", onData)
    daemon.stderr.on("data", onData)
    daemon.once("exit", onExit)
  })

/** SIGTERM, then SIGKILL after 15 s: the bench never leaves its SAM behind. */
const stopSam = async (daemon: ChildProcess): Promise<void> => {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return
  const exited = new Promise((resolve) => daemon.once("exit", resolve))
  daemon.kill("SIGTERM")
  const deadline = setTimeout(() => daemon.kill("SIGKILL"), 15_000)
  await exited
  clearTimeout(deadline)
}

/** Adds `row` to the "CLI start-up" table of docs/BENCHMARKS.md (the section is created once). */
const appendRow = (row: string): void => {
  const text = readFileSync(benchmarks, "utf8")
  const heading = "## CLI start-up"
  const header =
    "| date | cores | Node | command | node -e 0 | sam --version | sam ps | --version ratio | ps ratio |\n" +
    "|---|---|---|---|---|---|---|---|---|\n"
  if (!text.includes(heading)) {
    const section =
      `\n${heading}\n\n` +
      "`npm run bench:cli` (`node bench/cli.bench.ts 20` after `npm run build`): median wall time of\n" +
      "20 runs each of a bare `node -e 0`, `sam --version` and `sam ps` against a running SAM (one\n" +
      "tiny service, API on 127.0.0.1 port 0, found through its api.json), interleaved, with the\n" +
      "project's Node and the compiled CLI. The aim: `--version` ≤ 4× and `ps` ≤ 6× `node -e 0`.\n\n" +
      header
    writeFileSync(benchmarks, `${text.trimEnd()}\n${section}${row}\n`)
    return
  }
  const start = text.indexOf(heading)
  const next = text.indexOf("\n## ", start + heading.length)
  const end = next < 0 ? text.length : next
  const section = text.slice(start, end)
  const lines = section.split("\n")
  const lastRow = lines.findLastIndex((line) => line.startsWith("|"))
  lines.splice(lastRow + 1, 0, row)
  writeFileSync(benchmarks, text.slice(0, start) + lines.join("\n") + text.slice(end))
}

const main = async () => {
  if (!existsSync(join(root, "dist", "cli", "main.js")))
    throw new Error("the compiled CLI is missing: run `npm run build` first (npm run bench:cli does)")
  const dir = mkdtempSync(join(tmpdir(), "sam-cli-bench-"))
  const config = {
    api: { host: "127.0.0.1", port: 0 },
    services: {
      tiny: {
        deployment: { mode: "process", command: node, args: ["-e", "setInterval(() => {}, 1 << 30)"] },
      },
    },
  }
  writeFileSync(join(dir, "sam.config.ts"), `export default ${JSON.stringify(config, null, 2)}\n`)
  let daemon: ChildProcess | undefined
  try {
    daemon = await startSam(dir)
    const commands = {
      "node -e 0": ["-e", "0"],
      "sam --version": [bin, "--version"],
      "sam ps": [bin, "ps"],
    } as const
    const samples: Record<keyof typeof commands, number[]> = {
      "node -e 0": [],
      "sam --version": [],
      "sam ps": [],
    }
    // Two warm-up rounds (file cache), then interleaved rounds so drift hits all three alike.
    for (let round = -2; round < rounds; round++)
      for (const [name, args] of Object.entries(commands) as Array<
        [keyof typeof commands, readonly string[]]
      >) {
        const run = await timed(args, dir)
        if (run.code !== 0) throw new Error(`${name} exited ${run.code}:\n${run.stderr}`)
        if (name === "sam ps" && !/^tiny\s+service\s+process\s+running/m.test(run.stdout))
          throw new Error(`sam ps did not list the running service:\n${run.stdout}${run.stderr}`)
        if (round >= 0) samples[name].push(run.ms)
      }
    const base = median(samples["node -e 0"])
    const version = median(samples["sam --version"])
    const ps = median(samples["sam ps"])
    const ratio = (n: number) => `${(n / base).toFixed(2)}x`
    if (json) {
      const spread = (values: number[]) => ({
        min: Math.min(...values),
        max: Math.max(...values),
        samples: values.length,
      })
      const baseline = { subject: "node -e 0", value: base }
      const name = "CLI start-up, wall time"
      const figures = [
        {
          step: "cli",
          name,
          subject: "node -e 0",
          value: base,
          unit: "ms",
          spread: spread(samples["node -e 0"]),
        },
        {
          step: "cli",
          name,
          subject: "sam --version",
          value: version,
          unit: "ms",
          spread: spread(samples["sam --version"]),
          baseline,
          target: { kind: "ratio-at-most", ratio: 4 },
        },
        {
          step: "cli",
          name,
          subject: "sam ps (running SAM)",
          value: ps,
          unit: "ms",
          spread: spread(samples["sam ps"]),
          baseline,
          target: { kind: "ratio-at-most", ratio: 6 },
        },
      ]
      console.log(JSON.stringify({ figures }))
      return
    }
    console.log(`node ${process.version} (${node}), ${availableParallelism()} cores, ${rounds} runs each`)
    console.log(`node -e 0      ${ms(base)}`)
    console.log(`sam --version  ${ms(version)}  ${ratio(version)}  (aim ≤ 4x)`)
    console.log(`sam ps         ${ms(ps)}  ${ratio(ps)}  (aim ≤ 6x)`)
    const date = new Date().toISOString().slice(0, 10)
    appendRow(
      `| ${date} | ${availableParallelism()} | ${process.version} | \`node bench/cli.bench.ts ${rounds}\` | ` +
        `${ms(base)} | ${ms(version)} | ${ms(ps)} | ${ratio(version)} | ${ratio(ps)} |`,
    )
    console.log(`row added to ${benchmarks}`)
  } finally {
    if (daemon) await stopSam(daemon)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
