// A `cron_restart` schedule: read by croner (5 fields, or 6 with seconds first; names such as
// MON and JAN; @daily and the other nicknames), in SAM's local time. The config refuses one croner
// cannot read, or one with no time to come; the supervisor asks it when the unit restarts next.
import { Cron } from "croner"

const schedule = (pattern: string): Cron => new Cron(pattern, { paused: true, mode: "5-or-6-parts" })

/** Why `pattern` is no schedule (croner's words), or undefined when it is one. */
export const cronProblem = (pattern: string): string | undefined => {
  let cron: Cron
  try {
    cron = schedule(pattern)
  } catch (error) {
    return `is not a cron schedule: ${error instanceof Error ? error.message : String(error)}; five fields (minute hour day month weekday, "0 3 * * *") or six with seconds first`
  }
  return cron.nextRun() === null ? "never comes: no time matches it from now on" : undefined
}

/** When `pattern` comes next after `after` (epoch ms), or undefined when it never does again. */
export const nextCronTime = (pattern: string, after: number): number | undefined =>
  schedule(pattern).nextRun(new Date(after))?.getTime()
