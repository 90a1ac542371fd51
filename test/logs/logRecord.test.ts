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
