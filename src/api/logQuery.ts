// The query of a log request (`lines`, `since`, `grep`, `stream`, `instance`) as a LogQuery, with
// a problem for what cannot be read: a `since` that is neither a duration (10m, 1h30m, 2d) nor a
// time, and a `grep` pattern RE2 refuses (config/linePattern.ts: SAM's event loop runs the match,
// in time linear in the line). Pure.
import { linePatternProblem, parseLinePattern } from "../config/linePattern.ts"
import { defaultLines, type LogQuery } from "../runtime/logs/logRecord.ts"
import { parseSince, sinceProblem } from "./logSince.ts"

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

/** What is wrong with a `grep` pattern (undefined: nothing); the query schemas check it. */
export const grepProblem = linePatternProblem

/** The LogQuery of `params`, or every issue with them (for a 400 problem). */
export const logQueryOf = (
  params: LogQueryParams,
  now: number,
): { readonly query: LogQuery } | { readonly issues: ReadonlyArray<QueryIssue> } => {
  const issues: QueryIssue[] = []
  const since = params.since === undefined ? undefined : parseSince(params.since, now)
  if (params.since !== undefined && since === undefined)
    issues.push({ path: ["since"], message: sinceProblem(params.since) ?? "" })
  const grep = params.grep === undefined ? undefined : parseLinePattern(params.grep)
  if (grep !== undefined && "problem" in grep) issues.push({ path: ["grep"], message: grep.problem })
  if (issues.length > 0) return { issues }
  return {
    query: {
      lines: params.lines ?? defaultLines,
      ...(since === undefined ? {} : { since }),
      ...(grep === undefined || !("pattern" in grep) ? {} : { grep: grep.pattern }),
      ...(params.stream === undefined ? {} : { stream: params.stream }),
      ...(params.instance === undefined ? {} : { instance: params.instance }),
    },
  }
}
