// The patterns SAM matches unit output with (grep, log_line) run with RE2: patterns that take a
// backtracking engine minutes on one long line answer at once, and correctly; what RE2 has no
// syntax for is refused with a message that says what instead.
import { describe, expect, it } from "vitest"
import { compileLinePattern, linePatternProblem } from "../../src/config/linePattern.ts"

describe("line patterns", () => {
  it("patterns that backtrack for minutes in JavaScript match long lines correctly", () => {
    // Each takes a backtracking engine minutes (or forever) on these lines; no timing asserted:
    // without RE2 this test does not end.
    const f = "F".repeat(1500)
    expect(compileLinePattern("F*F*F*X", "grep").test(f)).toBe(false)
    expect(compileLinePattern("F*F*F*X", "grep").test(`${f}X`)).toBe(true)
    const errors = "error ".repeat(10_900)
    expect(compileLinePattern("e.*r.*timeout", "grep").test(errors)).toBe(false)
    expect(compileLinePattern("e.*r.*timeout", "grep").test(`${errors}timeout`)).toBe(true)
    expect(compileLinePattern("^(a+)+$", "grep").test(`${"a".repeat(60_000)}b`)).toBe(false)
    expect(compileLinePattern("(\\w+\\s?)*$", "grep").test("word ".repeat(10_000))).toBe(true)
  })

  it("everyday syntax works as in JavaScript", () => {
    const cases: Array<[string, string, boolean]> = [
      ["^tick [12]$", "tick 1", true],
      ["^tick [12]$", "tick 3", false],
      ["listening on \\d+", "server listening on 8080", true],
      ["(?i)ERROR", "an error", true],
      ["(?<word>\\w+) done", "build done", true],
      ['"level":(50|60)', '{"level":50}', true],
      ["\\bat\\b", "look at this", true],
    ]
    for (const [pattern, line, matched] of cases)
      expect(compileLinePattern(pattern, "grep").test(line), `${pattern} on ${line}`).toBe(matched)
  })

  it("refuses what RE2 cannot compile, and patterns too long or too large, saying why", () => {
    expect(linePatternProblem("(")).toBe("not a regular expression (RE2 syntax): missing closing ): `(`")
    expect(linePatternProblem("a(?=b)")).toBe(
      "not a regular expression (RE2 syntax): invalid or unsupported Perl syntax: `(?=`; RE2 has no lookahead or lookbehind",
    )
    expect(linePatternProblem("(?<!a)b")).toContain("RE2 has no lookahead or lookbehind")
    expect(linePatternProblem("(a)\\1")).toContain("RE2 has no back-references")
    expect(linePatternProblem("caf\\u00e9")).toContain("RE2 writes a code point as \\x{00e9}")
    expect(linePatternProblem("caf\\x{00e9}")).toBeUndefined()
    expect(linePatternProblem("x".repeat(501))).toBe(
      "pattern refused: longer than 500 characters; simplify it",
    )
    expect(linePatternProblem("[ab]{1000}")).toBe(
      "pattern refused: it compiles to 1002 instructions, more than 1000 (a repeat such as {500} counts each time); simplify it",
    )
    expect(linePatternProblem("((a{100}){100}){100}")).toContain("invalid repeat count")
    expect(() => compileLinePattern("(", "log_line")).toThrow(
      "log_line: not a regular expression (RE2 syntax): missing closing ): `(`",
    )
  })
})
