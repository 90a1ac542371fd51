// A crash report as the API answers it (and `sam crashes` prints it, from a running SAM or from the
// runtime store its last run left): the list's summary and the whole report. Pure.
import type { CrashReport } from "../runtime/store/storeTypes.ts"

export const crashSummary = (report: CrashReport) => ({
  id: report.id,
  unit: report.unit,
  instance: report.instance,
  time: report.time,
  failure: report.failure,
  exit_code: report.exitCode,
  signal: report.signal,
  reason: report.reason,
  uptime_ms: report.uptimeMs,
  restarts: report.restarts,
})

export const crashView = (report: CrashReport) => ({
  ...crashSummary(report),
  last_lines: report.lastLines,
  resources: report.resources,
})

/** `web#1`, as the list names an instance: unit web, instance 1. */
export const crashUnitFilter = (name: string): { unit: string; instance?: number } => {
  const named = /^(.+)#(\d+)$/.exec(name)
  return named ? { unit: named[1] as string, instance: Number(named[2]) } : { unit: name }
}
