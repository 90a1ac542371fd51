// How a log request's `since` and `grep` are read: durations back from now or ISO times, and
// patterns that SAM's event loop can match safely on a 64 KiB line (nested quantifiers refused).
import { describe, expect, it } from "vitest"
import { logQueryOf, parseSince } from "../../src/api/logQuery.ts"
import { riskyPattern } from "../../src/config/patternRisk.ts"

const now = Date.parse("2026-12-01T12:00:00.000Z")

describe("log queries", () => {
  it("since: a duration back from now (10m, 1h30m, 2d, 500ms) or an ISO time; nothing else", () => {
    expect(parseSince("10m", now)).toBe(now - 600_000)
    expect(parseSince("1h30m", now)).toBe(now - 5_400_000)
    expect(parseSince("2d", now)).toBe(now - 2 * 86_400_000)
    expect(parseSince("1.5s", now)).toBe(now - 1_500)
    expect(parseSince("500ms", now)).toBe(now - 500)
    expect(parseSince("2026-12-01T11:00:00Z", now)).toBe(now - 3_600_000)
    expect(parseSince("2026-12-01", now)).toBe(Date.parse("2026-12-01"))
    for (const bad of ["yesterday", "10", "m", "-5m", "May 3", "10 m"])
      expect(parseSince(bad, now)).toBeUndefined()
  })

  it("grep: ordinary patterns pass; ones that can backtrack exponentially are refused", () => {
    for (const ok of ["error", "^tick \\d+$", "(GET|POST) /api", "a+b*c", "[(]+", "\\(a+\\)+", "(?:ab)+"])
      expect(riskyPattern(ok), ok).toBeUndefined()
    for (const risky of ["(a+)+$", "(a|aa)*", "(x*y*)+", "((ab)+c)+", "(\\w+\\s?)*$", "(a)\\1"])
      expect(riskyPattern(risky), risky).toBeDefined()
  })

  it("every problem of a query is named, with its parameter", () => {
    expect(logQueryOf({ since: "soon", grep: "(" }, now)).toEqual({
      issues: [
        {
          path: ["since"],
          message: 'expected a duration such as 10m, 1h30m or 2d, or an ISO time, found "soon"',
        },
        { path: ["grep"], message: expect.stringContaining("not a regular expression") },
      ],
    })
    expect(logQueryOf({ grep: "x".repeat(501) }, now)).toMatchObject({
      issues: [{ path: ["grep"], message: "pattern refused: longer than 500 characters; simplify it" }],
    })
    expect(logQueryOf({ lines: 5, since: "1m", grep: "^a", stream: "stderr", instance: 2 }, now)).toEqual({
      query: { lines: 5, since: now - 60_000, grep: /^a/, stream: "stderr", instance: 2 },
    })
  })
})
