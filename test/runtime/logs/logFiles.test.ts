// Unit log files on disk: what a record looks like, reading back with filters, rotation by size
// (plain and gzipped) within count × size, seq continued by the next SAM, and a bounded queue that
// counts what it drops. Real files in a temp dir.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { afterEach, describe, expect, it } from "vitest"
import { LogFiles, type LogFilesOptions } from "../../../src/runtime/logs/logFiles.ts"
import { LogHub } from "../../../src/runtime/logs/logHub.ts"

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const logsDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sam-logs-"))
  dirs.push(dir)
  return join(dir, "logs")
}

const settings = { maxFileBytes: 10 * 1024 * 1024, maxFiles: 5, compress: false }

const hubOn = (dir: string, extra: Partial<LogFilesOptions> = {}) => {
  const files = new LogFiles({ dir, ...settings, ...extra })
  return { files, hub: new LogHub(files) }
}

const say = (hub: LogHub, unit: string, line: string, stream: "stdout" | "stderr" = "stdout", instance = 0) =>
  hub.push(unit, instance, { time: Date.now(), stream, line })

describe("unit log files", () => {
  it("a line becomes a JSON record in <unit>.log (0600 in a 0700 dir) and reads back with its filters", async () => {
    const dir = logsDir()
    const { hub } = hubOn(dir)
    say(hub, "web", "listening on 8080")
    say(hub, "web", "Error: listen EADDRINUSE", "stderr")
    say(hub, "web", '{"level":30,"msg":"request","path":"/health"}', "stdout", 1)
    say(hub, "db", "ready")
    const all = await hub.read("web")
    expect(all.map((r) => [r.seq, r.instance, r.stream, r.line])).toEqual([
      [1, 0, "stdout", "listening on 8080"],
      [2, 0, "stderr", "Error: listen EADDRINUSE"],
      [3, 1, "stdout", '{"level":30,"msg":"request","path":"/health"}'],
    ])
    expect((await hub.read("web", { stream: "stderr" })).map((r) => r.line)).toEqual([
      "Error: listen EADDRINUSE",
    ])
    expect((await hub.read("web", { grep: /health|8080/ })).map((r) => r.seq)).toEqual([1, 3])
    expect((await hub.read("web", { instance: 1 })).map((r) => r.seq)).toEqual([3])
    expect((await hub.read("web", { lines: 1 })).map((r) => r.seq)).toEqual([3])
    expect((await hub.read("web", { afterSeq: 2 })).map((r) => r.seq)).toEqual([3])
    expect(await hub.read("web", { since: Date.now() + 60_000 })).toEqual([])
    expect((await hub.read("db")).map((r) => r.line)).toEqual(["ready"])
    await hub.close()

    const text = readFileSync(join(dir, "web.log"), "utf8").split("\n")
    expect(JSON.parse(text[1] as string)).toEqual({
      seq: 2,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      instance: 0,
      stream: "stderr",
      line: "Error: listen EADDRINUSE",
    })
    expect(statSync(join(dir, "web.log")).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it("a new SAM on the same dir continues each unit's seq", async () => {
    const dir = logsDir()
    const first = hubOn(dir)
    for (let i = 0; i < 3; i++) say(first.hub, "web", `line ${i}`)
    await first.hub.close()
    const second = hubOn(dir)
    say(second.hub, "web", "after restart")
    const records = await second.hub.read("web")
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4])
    await second.hub.close()
  })

  for (const compress of [false, true]) {
    it(`rotates by size, keeps max_files old files${compress ? " gzipped" : ""}, and reads across them`, async () => {
      const dir = logsDir()
      const maxFileBytes = 16 * 1024
      const { hub } = hubOn(dir, { maxFileBytes, maxFiles: 3, compress })
      const line = (i: number) => `line ${String(i).padStart(6, "0")} ${"x".repeat(80)}`
      // About 180 bytes a record: 2,000 of them fill 22 files of 16 KiB, so most are rotated away.
      for (let i = 0; i < 2000; i++) {
        say(hub, "web", line(i))
        if (i % 100 === 99) await hub.read("web", { lines: 1 })
      }
      const last = await hub.read("web", { lines: 300 })
      expect(last.map((r) => r.line)).toEqual(Array.from({ length: 300 }, (_, k) => line(1700 + k)))
      await hub.close()
      const files = readdirSync(dir).sort()
      expect(files).toEqual(
        compress
          ? ["web.log", "web.log.1.gz", "web.log.2.gz", "web.log.3.gz"]
          : ["web.log", "web.log.1", "web.log.2", "web.log.3"],
      )
      for (const file of files) {
        const path = join(dir, file)
        const size = (file.endsWith(".gz") ? gunzipSync(readFileSync(path)) : readFileSync(path)).length
        expect(size).toBeLessThanOrEqual(maxFileBytes)
        expect(statSync(path).mode & 0o777).toBe(0o600)
      }
    })
  }

  it("max_files 0 keeps no old file: a full file is started again", async () => {
    const dir = logsDir()
    const { hub } = hubOn(dir, { maxFileBytes: 1000, maxFiles: 0 })
    for (let i = 0; i < 30; i++) say(hub, "web", `line ${i} ${"w".repeat(80)}`)
    const kept = await hub.read("web", { lines: 100 })
    await hub.close()
    expect(readdirSync(dir)).toEqual(["web.log"])
    expect(kept.at(-1)?.line).toMatch(/^line 29 /)
    expect(kept.length).toBeLessThan(30)
    expect(statSync(join(dir, "web.log")).size).toBeLessThanOrEqual(1000)
  })

  it("a record that does not fit the room left starts a new file; one bigger than a file has it alone", async () => {
    const dir = logsDir()
    const { hub } = hubOn(dir, { maxFileBytes: 1000, maxFiles: 10 })
    const sizes = [600, 600, 2500, 100, 100]
    for (const [i, size] of sizes.entries()) say(hub, "web", `${i}${"z".repeat(size)}`)
    expect((await hub.read("web", { lines: 10 })).map((r) => r.line.length)).toEqual(sizes.map((n) => n + 1))
    await hub.close()
    const perFile = readdirSync(dir)
      .sort()
      .map((f) =>
        readFileSync(join(dir, f), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).line[0]),
      )
    // Newest first: web.log, web.log.1, ...
    expect(perFile).toEqual([["3", "4"], ["2"], ["1"], ["0"]])
  })

  it("a unit writing faster than its disk takes loses lines past the bound, counted and said in its log", async () => {
    const dir = logsDir()
    const drops: Array<{ unit: string; lines: number }> = []
    let hub: LogHub | undefined
    const files = new LogFiles({
      dir,
      ...settings,
      maxPendingBytes: 64 * 1024,
      onDropped: (unit, lines) => {
        drops.push({ unit, lines })
        hub?.note(unit, 0, `sam: dropped ${lines} lines`)
      },
    })
    hub = new LogHub(files)
    // One turn of the event loop with 4 MB of output: far past the 64 KiB queue.
    for (let i = 0; i < 40_000; i++) say(hub, "flood", `${i} ${"y".repeat(100)}`)
    const records = await hub.read("flood", { lines: 1_000_000 })
    // Whoever reads part of the log (one stream, one instance) learns that lines were lost.
    const notes = await hub.read("flood", { stream: "stderr", instance: 3 })
    await hub.close()
    const dropped = drops.reduce((n, d) => n + d.lines, 0)
    expect(dropped).toBeGreaterThan(0)
    expect(records.filter((r) => r.stream !== "sam").length + dropped).toBe(40_000)
    expect(records.filter((r) => r.stream === "sam").map((r) => r.line)).toEqual(
      drops.map((d) => `sam: dropped ${d.lines} lines`),
    )
    expect(notes.map((r) => r.stream)).toEqual(drops.map(() => "sam"))
  })

  it("a loss with nothing left to write is said to the next reader, not only when SAM closes", async () => {
    const dir = logsDir()
    const drops: number[] = []
    let hub: LogHub | undefined
    const files = new LogFiles({
      dir,
      ...settings,
      maxPendingBytes: 1024,
      onDropped: (unit, lines) => {
        drops.push(lines)
        hub?.note(unit, 0, `sam: dropped ${lines} lines`)
      },
    })
    hub = new LogHub(files)
    say(hub, "big", "first")
    expect((await hub.read("big")).map((r) => r.line)).toEqual(["first"])
    // One line past the bound: dropped when appended, so no write follows to report it.
    say(hub, "big", "z".repeat(4096))
    expect((await hub.read("big")).map((r) => [r.stream, r.line])).toEqual([
      ["stdout", "first"],
      ["sam", "sam: dropped 1 lines"],
    ])
    // Reported once: closing has nothing more to say.
    await hub.close()
    expect(drops).toEqual([1])
  })
})
