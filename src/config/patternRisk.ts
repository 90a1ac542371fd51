// Regular expressions SAM runs on its own event loop, on lines of up to 64 KiB (a log query's
// grep, a log health check's log_line): refused when invalid, or when they could backtrack for
// ages (nested quantifiers, back-references), since one such match stalls all of SAM. Pure.

export const maxPatternLength = 500

/**
 * Why `pattern` could take exponential time, if it could: a quantified group that holds a
 * quantifier or an alternation (`(a+)+`, `(a|aa)*`), or a back-reference. Conservative by design.
 */
export const riskyPattern = (pattern: string): string | undefined => {
  const groups: Array<{ risky: boolean }> = []
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\") {
      const next = pattern[i + 1] ?? ""
      if (!inClass && /[1-9k]/.test(next)) return "back-references can take exponential time"
      i++
      continue
    }
    if (inClass) {
      if (c === "]") inClass = false
      continue
    }
    if (c === "[") inClass = true
    else if (c === "(") groups.push({ risky: false })
    else if (c === "|") {
      const top = groups.at(-1)
      if (top) top.risky = true
    } else if (c === "*" || c === "+" || c === "{") {
      const top = groups.at(-1)
      if (top) top.risky = true
    } else if (c === ")") {
      const group = groups.pop()
      const next = pattern[i + 1]
      const quantified = next === "*" || next === "+" || next === "{"
      if (group?.risky && quantified)
        return "a repeated group that itself repeats or alternates can take exponential time"
      // A risky group inside another group makes that one risky too.
      const outer = groups.at(-1)
      if (outer && (group?.risky || quantified)) outer.risky = true
    }
  }
  return undefined
}

/** What is wrong with `pattern` as a regular expression SAM runs (undefined: nothing). */
export const patternProblem = (pattern: string): string | undefined => {
  const risk =
    pattern.length > maxPatternLength ? `longer than ${maxPatternLength} characters` : riskyPattern(pattern)
  if (risk) return `pattern refused: ${risk}; simplify it`
  try {
    new RegExp(pattern)
    return undefined
  } catch (error) {
    return `not a regular expression: ${(error as Error).message}`
  }
}
