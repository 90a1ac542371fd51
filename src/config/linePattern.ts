// The regular expressions SAM matches against unit output on its own event loop (a log query's
// grep, a log health check's log_line), compiled with re2js (RE2): linear in the line, whatever the pattern.

import { RE2JS } from "re2js"

/** Longer patterns are refused (a grep is typed, a log_line is written once). */
export const maxPatternLength = 500

/**
 * The most instructions a pattern may compile to. RE2 is linear in the line, but the factor is
 * the program: `x{1000}` is 1,002 instructions, and on a 64 KiB line a program this size costs
 * at most a few hundred ms where the DFA gives up. Everyday patterns are under 100.
 */
export const maxPatternProgram = 1000

/** A compiled pattern: whether a line contains a match. */
export interface LinePattern {
  readonly source: string
  test(line: string): boolean
}

const syntaxHint = (pattern: string): string => {
  if (/\(\?<?[=!]/.test(pattern)) return "; RE2 has no lookahead or lookbehind"
  if (/\\[1-9]|\\k</.test(pattern)) return "; RE2 has no back-references"
  if (/\\u/.test(pattern)) return "; RE2 writes a code point as \\x{00e9}"
  return ""
}

/** `pattern` compiled, or what is wrong with it (the caller names where it was given). */
export const parseLinePattern = (
  pattern: string,
): { readonly pattern: LinePattern } | { readonly problem: string } => {
  if (pattern.length > maxPatternLength)
    return { problem: `pattern refused: longer than ${maxPatternLength} characters; simplify it` }
  let compiled: RE2JS
  try {
    compiled = RE2JS.compile(pattern)
  } catch (error) {
    const message = (error as Error).message.replace(/^error parsing regexp: /, "")
    return { problem: `not a regular expression (RE2 syntax): ${message}${syntaxHint(pattern)}` }
  }
  const size = compiled.programSize()
  if (size > maxPatternProgram)
    return {
      problem: `pattern refused: it compiles to ${size} instructions, more than ${maxPatternProgram} (a repeat such as {500} counts each time); simplify it`,
    }
  return { pattern: { source: pattern, test: (line) => compiled.test(line) } }
}

/** What is wrong with `pattern` as a pattern SAM matches output with (undefined: nothing). */
export const linePatternProblem = (pattern: string): string | undefined => {
  const parsed = parseLinePattern(pattern)
  return "problem" in parsed ? parsed.problem : undefined
}

/** `pattern` compiled; throws an Error naming `what` (`log_line`) and the problem when it is refused. */
export const compileLinePattern = (pattern: string, what: string): LinePattern => {
  const parsed = parseLinePattern(pattern)
  if ("problem" in parsed) throw new Error(`${what}: ${parsed.problem}`)
  return parsed.pattern
}
