// The query of a log request (`lines`, `since`, `grep`, `stream`, `instance`) as a LogQuery, with
// a problem for what cannot be read: a `since` that is neither a duration (10m, 1h30m, 2d) nor a
// time, and a `grep` pattern that is invalid or could backtrack for ages on a 64 KiB line (nested
// quantifiers, back-references): SAM's event loop runs the match. Pure.
import { patternProblem } from "../config/patternRisk.ts"
import { defaultLines, type LogQuery } from "../runtime/logs/logRecord.ts"

export interface LogQueryParams {
  readonly lines?: number
  readonly since?: string
  readonly grep?: string
  readonly stream?: "stdout" | "stderr"
  readonly instance?: number
}

export interface QueryIssue {
  readonly path: ReadonlyArray<string>
  readonly message: string
}

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

/** What is wrong with a `grep` pattern (undefined: nothing); the query schemas check it. */
export const grepProblem = patternProblem

/** The LogQuery of `params`, or every issue with them (for a 400 problem). */
export const logQueryOf = (
  params: LogQueryParams,
  now: number,
): { readonly query: LogQuery } | { readonly issues: ReadonlyArray<QueryIssue> } => {
  const issues: QueryIssue[] = []
  const since = params.since === undefined ? undefined : parseSince(params.since, now)
  if (params.since !== undefined && since === undefined)
    issues.push({ path: ["since"], message: sinceProblem(params.since) ?? "" })
  const grepIssue = params.grep === undefined ? undefined : grepProblem(params.grep)
  if (grepIssue !== undefined) issues.push({ path: ["grep"], message: grepIssue })
  if (issues.length > 0) return { issues }
  const grep = params.grep === undefined ? undefined : new RegExp(params.grep)
  return {
    query: {
      lines: params.lines ?? defaultLines,
      ...(since === undefined ? {} : { since }),
      ...(grep === undefined ? {} : { grep }),
      ...(params.stream === undefined ? {} : { stream: params.stream }),
      ...(params.instance === undefined ? {} : { instance: params.instance }),
    },
  }
}
