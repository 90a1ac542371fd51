// An agent's `ctx.logger` entry as a line of its unit's log: kept only at or above the log level in
// effect (the agent's `log_level`, else SAM's `runtime.log_level`), on stderr for warn and error,
// and prefixed with its level unless it is info. Pure; the instance runner applies it.

/** The levels of `ctx.logger` (the agent protocol's `log` message). */
export type AgentLogLevel = "debug" | "info" | "warn" | "error"

/** pino's order, which `runtime.log_level` uses: a level keeps itself and everything above it. */
const rank: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
}

/** Whether an entry of `level` is kept when the log level is `threshold` (unknown: info). */
export const keptAt = (level: AgentLogLevel, threshold: string): boolean =>
  (rank[level] ?? 30) >= (rank[threshold] ?? 30)

/**
 * The entry's stream and text: `warming up` for info (as console.log's lines are), `debug: …`,
 * `warn: …`, `error: …` for the others, so that a reader of `sam logs` tells them apart; the level
 * itself is the record's too (its `fields.level` in the API and `sam logs --json`).
 */
export const agentLogLine = (
  level: AgentLogLevel,
  text: string,
): { readonly stream: "stdout" | "stderr"; readonly line: string } => ({
  stream: level === "warn" || level === "error" ? "stderr" : "stdout",
  line: level === "info" ? text : `${level}: ${text}`,
})
