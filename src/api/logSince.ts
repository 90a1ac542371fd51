// A `since` of a log or crash query (`10m`, `1h30m`, `2d`, an ISO time) as epoch ms. Pure, with no
// imports: the CLI checks `--since` with it before asking SAM (the pattern of --grep is SAM's to check).

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `10m`, `90s`, `1h30m`, `2d` before `now`, or an ISO time; undefined when it is neither. */
export const parseSince = (text: string, now: number): number | undefined => {
  const trimmed = text.trim()
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) {
    let total = 0
    for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
      total += Number(amount) * (unitMs[unit as string] as number)
    return now - total
  }
  // A date or a time with a date: Date.parse alone also takes "1" or "May".
  if (!/^\d{4}-\d\d-\d\d/.test(trimmed)) return undefined
  const ms = Date.parse(trimmed)
  return Number.isNaN(ms) ? undefined : ms
}

/** What is wrong with a `since` (undefined: nothing); the query schemas check it (schemas.ts). */
export const sinceProblem = (text: string): string | undefined =>
  parseSince(text, Date.now()) === undefined
    ? `expected a duration such as 10m, 1h30m or 2d, or an ISO time, found "${text}"`
    : undefined
