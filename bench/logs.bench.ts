// Log capture throughput: lines/s SAM reads, splits, records and writes to the unit's rotating
// files from one child writing as fast as it can (test/fixtures/flood.mjs, 100-byte lines), against
// the same child's stdout going straight to a file (`child > file`) as the floor.
// Run: node bench/logs.bench.ts [seconds]   (default 10; add --expose-gc to see heap after GC).
// With --json (npm run bench's logs step) the last line is {"figures": [...]}.
import { spawn } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createSam } from "../src/app/createSam.ts"

const seconds = Number(process.argv[2] ?? 10)
const floodMs = String(seconds * 1000)
const flood = join(import.meta.dirname, "..", "test", "fixtures", "flood.mjs")
const dir = mkdtempSync(join(tmpdir(), "sam-logs-bench-"))
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** The last bytes of `file`. */
const tailOf = (file: string): string => {
  const size = statSync(file).size
  const fd = openSync(file, "r")
  try {
    const buffer = Buffer.alloc(Math.min(size, 200))
    readSync(fd, buffer, 0, buffer.length, size - buffer.length)
    return buffer.toString()
  } finally {
    closeSync(fd)
  }
}

/** The child straight into a file; resolves with its line count and how long it took. */
const floor = async (): Promise<{ lines: number; ms: number; bytes: number }> => {
  const file = join(dir, "floor.log")
  const fd = openSync(file, "w")
  const child = spawn(process.execPath, [flood], {
    stdio: ["ignore", fd, "inherit"],
    env: { FLOOD_MS: floodMs },
  })
  // The child idles once done: its file's last line says how many lines it wrote, in how long.
  let done: RegExpExecArray | null = null
  while (!done) {
    await new Promise((r) => setTimeout(r, 100))
    done = /flood done (\d+) in (\d+) ms\n$/.exec(tailOf(file))
  }
  child.kill("SIGKILL")
  closeSync(fd)
  return { lines: Number(done[1]), ms: Number(done[2]), bytes: statSync(file).size }
}

const throughSam = async () => {
  const stateDir = join(dir, "state")
  const sam = await createSam(
    {
      runtime: { state_dir: stateDir },
      api: { port: 0 },
      services: {
        flood: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [flood],
            env: { FLOOD_MS: floodMs },
          },
          restart_policy: "never",
        },
      },
    },
    { cwd: dir, plugins: false, auditLog: false },
  )
  const baseline = process.memoryUsage()
  let peak = baseline.rss
  let peakHeap = baseline.heapUsed
  const sampler = setInterval(() => {
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    peakHeap = Math.max(peakHeap, usage.heapUsed)
  }, 100)
  let done: { lines: number; ms: number } | undefined
  let dropped = 0
  // Cheap per line: this subscriber runs on SAM's event loop too.
  const off = sam.logs.subscribe((records) => {
    for (const r of records) {
      if (r.stream === "sam") dropped += Number(/^sam: dropped (\d+) lines/.exec(r.line)?.[1] ?? 0)
      else if (r.line.startsWith("flood done")) {
        const m = /^flood done (\d+) in (\d+) ms$/.exec(r.line)
        if (m) done = { lines: Number(m[1]), ms: Number(m[2]) }
      }
    }
  })
  await sam.start()
  while (!done) await new Promise((r) => setTimeout(r, 100))
  clearInterval(sampler)
  off()
  await sam.stop()
  const logs = join(stateDir, "logs")
  const files = readdirSync(logs).filter((f) => f.startsWith("flood.log"))
  const bytes = files.reduce((n, f) => n + statSync(join(logs, f)).size, 0)
  return {
    ...done,
    dropped,
    files: files.length,
    bytes,
    baseline: baseline.rss,
    peak,
    peakHeap,
    baseHeap: baseline.heapUsed,
  }
}

try {
  // SAM first: the floor leaves gigabytes of dirty pages whose writeback would slow what follows.
  const sam = await throughSam()
  const direct = await floor()
  const directRate = direct.lines / (direct.ms / 1000)
  const samRate = (sam.lines - sam.dropped) / (sam.ms / 1000)
  console.log(
    `child > file:       ${Math.round(directRate).toLocaleString("en")} lines/s (${direct.lines} lines, ${mb(direct.bytes)})`,
  )
  console.log(
    `through SAM:        ${Math.round(samRate).toLocaleString("en")} lines/s captured and written ` +
      `(${sam.lines} read, ${sam.dropped} dropped; ${sam.files} files, ${mb(sam.bytes)} kept)`,
  )
  console.log(`ratio SAM / floor:  ${(samRate / directRate).toFixed(2)}`)
  console.log(
    `SAM memory:         RSS ${mb(sam.baseline)} -> peak ${mb(sam.peak)}; heap ${mb(sam.baseHeap)} -> peak ${mb(sam.peakHeap)}`,
  )
  if (process.argv.includes("--json")) {
    const name = `log capture, one child flooding stdout for ${seconds} s`
    const figures = [
      { step: "logs", name, subject: "child > file", value: directRate, unit: "lines/s" },
      {
        step: "logs",
        name,
        subject: "through SAM (createSam)",
        value: samRate,
        unit: "lines/s",
        baseline: { subject: "child > file", value: directRate },
        note: `lines read minus dropped (${sam.dropped} of ${sam.lines} dropped); SAM RSS ${mb(sam.baseline)} -> peak ${mb(sam.peak)}`,
      },
    ]
    console.log(JSON.stringify({ figures }))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
