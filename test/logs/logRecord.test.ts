// A record's line in its unit's file and back: an agent's logger entry keeps its level, so `sam
// logs --json` of the last run (read from the files) shows the same `fields.level`.
import { describe, expect, it } from "vitest"
import { logLineView } from "../../src/api/logLineView.ts"
import { decodeRecord, encodeRecord } from "../../src/runtime/logs/logRecord.ts"

describe("a log record in its unit's file", () => {
  it("keeps an agent entry's level, and a printed line has none", () => {
    const entry = {
      seq: 7,
      time: Date.UTC(2026, 11, 1),
      unit: "alpha",
      instance: 0,
      stream: "stderr",
      line: "warn: slow",
    } as const
    const text = encodeRecord({ ...entry, level: "warn" })
    expect(text).toBe(
      '{"seq":7,"time":"2026-12-01T00:00:00.000Z","instance":0,"stream":"stderr","level":"warn","line":"warn: slow"}\n',
    )
    const back = decodeRecord(text.trim(), "alpha")
    expect(back).toEqual({ ...entry, level: "warn" })
    expect(logLineView(back!).fields).toEqual({ level: "warn" })
    const printed = decodeRecord(encodeRecord({ ...entry, line: '{"msg":"json"}' }).trim(), "alpha")
    expect(printed).toEqual({ ...entry, line: '{"msg":"json"}' })
    expect(logLineView(printed!).fields).toEqual({ msg: "json" })
  })
})

describe("a read of a unit's log file", () => {
  it("holds at most its bound of text: the newest lines that fit, however many were asked for", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const { join } = await import("node:path")
    const { readRecords } = await import("../../src/runtime/logs/logReader.ts")
    const dir = mkdtempSync(join(tmpdir(), "sam-log-read-"))
    try {
      const file = join(dir, "big.log")
      const line = "x".repeat(1000)
      const records = Array.from({ length: 100 }, (_, i) =>
        encodeRecord({
          seq: i + 1,
          time: Date.UTC(2026, 11, 1),
          unit: "big",
          instance: 0,
          stream: "stdout",
          line,
        }),
      )
      writeFileSync(file, records.join(""))
      // 10 lines' worth of text (a line's record is a little longer than the line itself).
      const read = await readRecords(file, "big", { lines: 100 }, 10 * 1100)
      expect(read.map((r) => r.seq)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100])
      // Under the bound, every line asked for.
      expect((await readRecords(file, "big", { lines: 100 })).length).toBe(100)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
