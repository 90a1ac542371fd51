// A unit that floods its output must not hurt SAM or the other units: 15 s of a child writing as
// fast as it can keeps the daemon's RSS growth (read from /proc of the daemon, not of the test)
// under 150 MB and the unit's files within max_files × max_file_mb, while another unit's lines keep
// arriving within a second; a 600 MB line without a newline is cut and SAM stays up.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Sse } from "effect/encoding"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { truncationMarker } from "../../src/runtime/output/lineSplitter.ts"
import { authHeaders, type Daemon, fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

const maxFileMb = 2
const maxFiles = 3
const floodMs = 15_000

let proj: Project
let daemon: Daemon
let url = ""

const node = (script: string, env: Record<string, string> = {}) => ({
  mode: "process",
  command: process.execPath,
  args: [fixturePath(script)],
  env,
})

beforeAll(async () => {
  proj = project()
  proj.writeConfig({
    api: { port: 0 },
    monitoring: { logs: { max_file_mb: maxFileMb, max_files: maxFiles } },
    services: {
      quiet: {
        deployment: node("chatty.mjs", { TICK_MS: "100" }),
        health_check: { endpoint: "/", interval_seconds: 0.5, kind: "readiness" },
      },
      // Both wait for SIGUSR2 (the test sends it), so SAM's memory is measured before they start.
      flood: {
        deployment: node("flood.mjs", { FLOOD_MS: String(floodMs), START_ON: "SIGUSR2" }),
        restart_policy: "never",
      },
      long: {
        deployment: node("long-line.mjs", { LINE_MB: "600", START_ON: "SIGUSR2" }),
        restart_policy: "never",
      },
    },
  })
  daemon = await proj.start()
  await daemon.waitForOutput("units ready")
  url = (JSON.parse(readFileSync(join(proj.stateDir, "api.json"), "utf8")) as { url: string }).url
}, 60_000)

afterAll(async () => {
  expect(await proj.cleanup()).toEqual([])
}, 60_000)

/** The daemon's resident memory (VmRSS), from /proc. */
const rssOf = (pid: number): number => {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Follow `unit`'s new lines over SSE, noting when each arrives; stop() ends it. */
const arrivals = (unit: string) => {
  const times: number[] = []
  const abort = new AbortController()
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event" && event.event === "line") times.push(Date.now())
  })
  const done = (async () => {
    try {
      const response = await fetch(`${url}/api/services/${unit}/logs?follow=true&lines=0`, {
        headers: authHeaders(proj.stateDir),
        signal: abort.signal,
      })
      const decoder = new TextDecoder()
      for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch (error) {
      if (!abort.signal.aborted) throw error
    }
  })()
  return {
    times,
    stop: async () => {
      abort.abort()
      await done
    },
  }
}

/** The pid of a unit SAM started (the test signals it; it is a process of this test's SAM). */
const pidOf = async (unit: string): Promise<number> => {
  const { pid } = await untilUnit(daemon, "services", unit, (s) => s.status === "running" && s.pid !== null)
  return pid as number
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

describe("a flooding unit", () => {
  it("for 15 s: SAM's RSS grows < 150 MB, its files stay within the rotation limits, another unit's lines keep coming", async () => {
    const baseline = rssOf(daemon.pid)
    const quiet = arrivals("quiet")
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(daemon.pid))
    }, 200)
    const began = Date.now()
    try {
      process.kill(await pidOf("flood"), "SIGUSR2")
      // The flood ends by itself; the API answers all along (each call is one of the proofs).
      for (;;) {
        const { body } = await daemon.api<{ lines: Array<{ line: string }> }>(
          "GET",
          "/api/services/flood/logs?lines=1&grep=flood%20done",
        )
        if (body.lines.length > 0) break
        if (Date.now() - began > floodMs + 30_000) throw new Error("the flood never said it was done")
        await new Promise((r) => setTimeout(r, 500))
      }
    } finally {
      clearInterval(sampler)
      await quiet.stop()
    }
    const gaps = quiet.times.slice(1).map((t, i) => t - (quiet.times[i] as number))
    const longestGap = Math.max(...gaps)
    const dir = join(proj.stateDir, "logs")
    const files = readdirSync(dir).filter((f) => f.startsWith("flood.log"))
    const sizes = files.map((f) => statSync(join(dir, f)).size)
    const { body } = await daemon.api<{ lines: Array<{ line: string }> }>(
      "GET",
      "/api/services/flood/logs?lines=1&grep=flood%20done",
    )
    const written = Number(/flood done (\d+)/.exec(body.lines[0]?.line ?? "")?.[1])
    const drops = await daemon.api<{ lines: Array<{ line: string }> }>(
      "GET",
      "/api/services/flood/logs?lines=100000&grep=%5Esam%3A%20dropped",
    )
    const dropped = drops.body.lines.reduce(
      (n, l) => n + Number(/dropped (\d+) lines/.exec(l.line)?.[1] ?? 0),
      0,
    )
    console.log(
      `flood: ${written} lines in ${floodMs / 1000} s (${Math.round(written / (floodMs / 1000))}/s), ` +
        `${dropped} dropped (said in ${drops.body.lines.length} notes); SAM RSS ${mb(baseline)} -> peak ${mb(peak)}; ` +
        `quiet: ${quiet.times.length} lines, longest gap ${longestGap} ms; files ${files.length}, ${mb(sizes.reduce((a, b) => a + b, 0))}`,
    )
    expect(peak - baseline).toBeLessThan(150 * 1024 * 1024)
    expect(files.length).toBeLessThanOrEqual(maxFiles + 1)
    for (const size of sizes) expect(size).toBeLessThanOrEqual(maxFileMb * 1024 * 1024)
    expect(quiet.times.length).toBeGreaterThan(floodMs / 1000)
    expect(longestGap).toBeLessThan(1000)
    expect((await untilUnit(daemon, "services", "quiet", (s) => s.ready)).status).toBe("running")
  }, 90_000)

  it("resuming from long ago replays the last 10,000 lines after a `gap` event", async () => {
    const abort = new AbortController()
    const events: Array<{ event: string; id: string | undefined }> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag !== "Event") return
      events.push({ event: event.event, id: event.id })
      if (events.length >= 10_001) abort.abort()
    })
    try {
      const response = await fetch(`${url}/api/services/flood/logs?follow=true`, {
        headers: { "last-event-id": "1", ...authHeaders(proj.stateDir) },
        signal: abort.signal,
      })
      const decoder = new TextDecoder()
      for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch (error) {
      if (!abort.signal.aborted) throw error
    }
    expect(events[0]?.event).toBe("gap")
    const ids = events.slice(1).map((e) => Number(e.id))
    expect(ids).toHaveLength(10_000)
    expect(ids.every((id, i) => i === 0 || id === (ids[i - 1] as number) + 1)).toBe(true)
  }, 60_000)

  it("a 600 MB line without a newline is cut at max_line_kb, and SAM stays up", async () => {
    process.kill(await pidOf("long"), "SIGUSR2")
    const deadline = Date.now() + 60_000
    let body: { lines: Array<{ line: string }> }
    do {
      if (Date.now() > deadline) throw new Error("long-line.mjs never said done")
      await new Promise((r) => setTimeout(r, 200))
      body = (await daemon.api<{ lines: Array<{ line: string }> }>("GET", "/api/services/long/logs")).body
    } while (body.lines.at(-1)?.line !== "done")
    expect(body.lines.map((l) => l.line.length)).toEqual([64 * 1024 + truncationMarker(64 * 1024).length, 4])
    expect(body.lines[0]?.line).toMatch(/^x+ … \[line truncated: longer than 65536 bytes\]$/)
    expect(body.lines[1]?.line).toBe("done")
    expect((await daemon.api("GET", "/api/status")).status).toBe(200)
    expect(rssOf(daemon.pid)).toBeLessThan(1024 * 1024 * 1024)
  }, 90_000)
})
