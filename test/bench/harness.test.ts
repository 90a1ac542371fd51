// `npm run bench` in its smallest mode, from the sources (no build) and without PM2 (no network):
// two services, two kills, 100 inline agents. The story: it prints the table with ratios, targets
// and a verdict per figure, appends one row per figure to the results file it is given, and leaves
// no process behind (everything it started ran under the test's own TMPDIR).
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { repoRoot } from "../cli/runSam.ts"

const work = mkdtempSync(join(tmpdir(), "sam-bench-test-"))
const results = join(work, "RESULTS.md")

afterAll(() => rmSync(work, { recursive: true, force: true }))

const runBench = (
  args: ReadonlyArray<string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "bench", "run.ts"), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: work },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => child.kill("SIGINT"), 100_000)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Live processes whose working directory or command line is under `dir`. */
const processesUnder = (dir: string): string[] =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`)
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
        return cwd.startsWith(dir) || cmdline.includes(dir) ? [`${pid} ${cmdline}`] : []
      } catch {
        return []
      }
    })

describe("npm run bench, smallest mode", () => {
  it("--help lists the steps and options (the README's performance section points to it)", async () => {
    const { code, stdout } = await runBench(["--help"])
    expect(code).toBe(0)
    expect(stdout).toContain("Steps: supervisor")
    // The issues' own benches are steps of the same run.
    for (const step of ["agents", "cli", "gateway", "metrics", "logs"])
      expect(stdout).toContain(`; ${step} (`)
    expect(stdout).toContain("--quick")
  })

  it("prints one table of figures with ratios and verdicts, appends its rows, and leaves nothing running", {
    timeout: 120_000,
  }, async () => {
    const args = [
      "supervisor",
      "agents",
      "--from-sources",
      "--no-pm2",
      "--counts",
      "2",
      "--kills",
      "2",
      "--repeats",
      "1",
      "--inline",
      "100",
      "--calls",
      "50",
      "--settle",
      "200",
      "--results",
      results,
    ]
    const run = await runBench(args)
    expect(run.code, run.stderr).toBe(0)

    const lines = run.stdout.split("\n")
    const header = lines.findIndex((line) =>
      /^step\s+figure\s+subject\s+median\s+spread\s+baseline\s+ratio\s+target\s+result$/.test(line),
    )
    expect(header, run.stdout).toBeGreaterThan(0)
    expect(run.stdout).toMatch(/Node v\d+\.\d+\.\d+, load \d+\.\d→\d+\.\d/)
    const table = lines.slice(header + 2, lines.indexOf("", header))
    const row = (figure: RegExp, subject: string) =>
      table.find((line) => figure.test(line) && line.includes(subject))
    expect(row(/cold start, 2 services/, "raw spawn")).toBeDefined()
    expect(row(/cold start, 2 services/, "SAM (sam start)")).toBeDefined()
    expect(row(/restart after SIGKILL, median, 2 services/, "SAM (sam start)")).toMatch(
      /raw spawn [\d.,]+ ms\s+[\d.]+×\s+≤ 1\.5× raw spawn\s+(pass|miss)$/,
    )
    expect(row(/supervisor RSS after settling, 2 services/, "SAM (sam start)")).toMatch(/[\d.]+ MB/)
    expect(row(/idle agent RSS/, "sandbox agent")).toMatch(/≤ 1\.3× bare Node HTTP process\s+(pass|miss)$/)
    expect(row(/heap per agent, 100 inline agents/, "SAM")).toMatch(/≤ 10 KB\s+(pass|miss)$/)
    expect(row(/lifecycle transitions\/s/, "SAM")).toMatch(/≥ 100,000 \/s\s+(pass|miss)$/)
    expect(row(/invoke round trip/, "sandbox (IPC)")).toMatch(/inline [\d.]+ µs\s+[\d.]+×/)

    // One row per figure in the results file, each with the run's facts and the exact command.
    const text = readFileSync(results, "utf8")
    expect(text).toMatch(
      /^# Benchmark results\n\n## Runs\n\n\| date \| cores \| Node \| load \(start→end\) \| command \| step \| figure \|/,
    )
    const rows = text.split("\n").filter((line) => /^\| \d{4}-\d\d-\d\d \d\d:\d\d \|/.test(line))
    expect(rows).toHaveLength(table.length)
    for (const line of rows) {
      const cells = line.split(" | ")
      expect(cells).toHaveLength(14)
      expect(cells[1]).toMatch(/^\d+$/)
      expect(cells[2]).toBe(process.version)
      expect(cells[3]).toMatch(/^\d+\.\d→\d+\.\d$/)
      expect(cells[4]).toBe(`\`node bench/run.ts ${args.join(" ")}\``)
    }

    expect(processesUnder(work)).toEqual([])
  })
})
