// The `log` check (process-compose's ready_log_line, PM2's wait_ready without code changes): an
// instance is ready once a line of its output matches `log_line`. The runner watches the lines as
// they arrive (InstanceRunner.logged), so this check only asks; until it passes the monitor asks
// every few milliseconds, so readiness follows the line at once.
import type { ProbeFn } from "./probe.ts"

export const logProbe: ProbeFn = async (spec, target) => {
  const pattern = spec.logLine
  if (pattern === undefined) return { ok: false, detail: "a log check needs log_line" }
  if (target.logged === undefined) return { ok: false, detail: "this instance has no output to watch" }
  return target.logged(pattern)
    ? { ok: true, detail: `an output line matched /${pattern}/` }
    : { ok: false, detail: `no output line has matched /${pattern}/ yet` }
}
