// The `sam crashes` table's EXIT column: how the instance ended, and the limit SAM killed it for.
import { describe, expect, it } from "vitest"
import { formatCrash, formatCrashes } from "../../src/cli/crashesCommand.ts"

const crash = (fields: { failure: string; exit_code: number | null; signal: string | null }) => ({
  id: 1,
  unit: "web",
  instance: 0,
  time: "2026-12-04T01:02:03.000Z",
  reason: "why",
  uptime_ms: 1500,
  restarts: 0,
  ...fields,
})

const exitColumn = (fields: Parameters<typeof crash>[0]) =>
  formatCrashes([crash(fields)])
    .split("\n")[1]
    ?.split(/\s{2,}/)[3]

describe("sam crashes' EXIT column", () => {
  it("says an exit by its code or signal, and a limit's kill beside how it ended, never a word twice", () => {
    expect(exitColumn({ failure: "exit", exit_code: 3, signal: null })).toBe("code 3")
    expect(exitColumn({ failure: "exit", exit_code: null, signal: "SIGKILL" })).toBe("SIGKILL")
    expect(exitColumn({ failure: "liveness", exit_code: null, signal: "SIGTERM" })).toBe("liveness (SIGTERM)")
    // Reported before the process ended: the limit alone ("liveness (liveness)" before).
    expect(exitColumn({ failure: "liveness", exit_code: null, signal: null })).toBe("liveness")
  })
})

describe("sam crashes and a unit's control characters", () => {
  it("shows them escaped in the list and in one report, as sam logs does", () => {
    const raw = "boom \x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J"
    const list = formatCrashes([{ ...crash({ failure: "exit", exit_code: 1, signal: null }), reason: raw }])
    expect(list).not.toContain("\x1b")
    expect(list).toContain("boom \\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J")
    const one = formatCrash({
      ...crash({ failure: "exit", exit_code: 1, signal: null }),
      reason: raw,
      resources: {},
      last_lines: [{ time: "2026-12-04T01:02:03.000Z", stream: "stderr", line: raw }],
    })
    expect(one).not.toContain("\x1b")
    expect(one.match(/\\x1b\]52/g)).toHaveLength(2)
  })
})

describe("sam crashes and a unit that may run several instances", () => {
  it("names its instance 0 web#0 in the list and in a report, as its `sam ps` row does", () => {
    const one = crash({ failure: "exit", exit_code: 1, signal: null })
    expect(
      formatCrashes([one], new Set(["web"]))
        .split("\n")[1]
        ?.split(/\s{2,}/)[2],
    ).toBe("web#0")
    expect(
      formatCrashes([one])
        .split("\n")[1]
        ?.split(/\s{2,}/)[2],
    ).toBe("web")
    expect(formatCrash({ ...one, resources: {}, last_lines: [] }, new Set(["web"]))).toMatch(
      /^crash 1: web#0 at /,
    )
  })
})

describe("sam crashes show's usage line", () => {
  it("rounds the CPU time as the uptime is (37ms, 1.2s) and says when the figures are the reading that killed it", () => {
    const one = { ...crash({ failure: "memory", exit_code: 0, signal: null }), last_lines: [] }
    const usage = (resources: Record<string, unknown>) =>
      formatCrash({ ...one, resources })
        .split("\n")
        .find((line) => line.startsWith("  usage:"))
    expect(usage({ rss_bytes: 75_078_041, cpu_seconds: 0.036557 })).toBe("  usage:    rss 71.6 MB, cpu 37ms")
    expect(usage({ rss_bytes: 488_636_416, cpu_seconds: 1.23456, killed_for: "memory" })).toBe(
      "  usage:    rss 466.0 MB, cpu 1.2s (the reading over its memory limit)",
    )
  })
})
