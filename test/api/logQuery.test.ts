// How a log request's `since` and `grep` are read: durations back from now or ISO times, and
// patterns RE2 compiles (linear in the line, whatever the pattern: SAM's event loop runs them).
import { describe, expect, it } from "vitest"
import { logQueryOf } from "../../src/api/logQuery.ts"
import { parseSince } from "../../src/api/logSince.ts"

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

  it("every problem of a query is named, with its parameter", () => {
    expect(logQueryOf({ since: "soon", grep: "(" }, now)).toEqual({
      issues: [
        {
          path: ["since"],
          message: 'expected a duration such as 10m, 1h30m or 2d, or an ISO time, found "soon"',
        },
        { path: ["grep"], message: "not a regular expression (RE2 syntax): missing closing ): `(`" },
      ],
    })
    expect(logQueryOf({ grep: "x".repeat(501) }, now)).toMatchObject({
      issues: [{ path: ["grep"], message: "pattern refused: longer than 500 characters; simplify it" }],
    })
    const parsed = logQueryOf({ lines: 5, since: "1m", grep: "^a", stream: "stderr", instance: 2 }, now)
    expect(parsed).toEqual({
      query: { lines: 5, since: now - 60_000, grep: expect.anything(), stream: "stderr", instance: 2 },
    })
    const grep = "query" in parsed ? parsed.query.grep : undefined
    expect([grep?.test("abc"), grep?.test("cba")]).toEqual([true, false])
  })
})
