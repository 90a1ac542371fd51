// "Did you mean" hints for unknown keys, ids, commands and flags.
// Pure string distance (optimal string alignment, so a swapped pair of letters counts once).

const distance = (a: string, b: string): number => {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: Array<Array<number>> = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1)
      }
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The closest candidate to `input`, if one is close enough to be a plausible typo. */
export const didYouMean = (
  input: string,
  candidates: Iterable<string>,
  /** Most edits a hint may be away (default a third of the input's length, at least 1). */
  maxEdits?: number,
): string | undefined => {
  const needle = input.toLowerCase()
  const limit = maxEdits ?? Math.max(1, Math.floor(input.length / 3))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === input) continue
    const lower = candidate.toLowerCase()
    const d = lower === needle ? 0 : distance(needle, lower)
    const prefix = lower.startsWith(needle) || needle.startsWith(lower)
    const score = prefix && Math.min(needle.length, lower.length) >= 3 ? Math.min(d, limit) : d
    if (score <= limit && score < bestDistance) {
      best = candidate
      bestDistance = score
    }
  }
  return best
}

/** ` (did you mean "x"?)` or the empty string. */
export const suggestionSuffix = (
  input: string,
  candidates: Iterable<string>,
  quote = '"',
  maxEdits?: number,
): string => {
  const hint = didYouMean(input, candidates, maxEdits)
  return hint === undefined ? "" : ` (did you mean ${quote}${hint}${quote}?)`
}
