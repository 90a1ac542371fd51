// Crash reports: for every instance that exits without being asked to, other than cleanly (code
// 0), or is killed for a limit (liveness, heartbeat, memory, ...) a report goes into the runtime
// store with the failure's facts
// (the supervisor's `instance.failed` event), the incarnation's last lines of output (both
// streams, from the instance's recent lines since its spawn: an agent's logger lines and its setup's
// too) and its resource use when last sampled. Retention
// keeps the newest reports per unit, none older than the configured age.

import { isCleanExit } from "./cleanExit.ts"
import type { Sam } from "./sam.ts"
import type { CrashReportsTable } from "./store/crashReports.ts"
import type { CrashLine, CrashReport, Json } from "./store/storeTypes.ts"
import type { InstanceStatus } from "./supervisor/instanceStatus.ts"

export interface CrashRetention {
  /** Reports kept per unit (the newest). */
  readonly maxPerUnit: number
  /** Reports older than this are deleted. */
  readonly maxAgeMs: number
}

export interface CrashReporterOptions extends CrashRetention {
  /** Lines of output quoted (default 50). */
  readonly lastLines?: number
}

/** A quoted line is cut here: a report stays small whatever the unit printed. */
const maxQuotedChars = 2_000

/**
 * What the instance's tree used at its last sample before it died ("at death", give or take an
 * interval); for a kill for a limit, the reading over the limit that triggered it (`killed_for`).
 */
const resourcesOf = (instance: InstanceStatus | undefined): { readonly [key: string]: Json } => {
  const usage = instance?.lastUsage
  if (!usage)
    return { rss_bytes: null, cpu_seconds: null, note: "no resource sample of this instance was taken" }
  return {
    rss_bytes: usage.rssBytes,
    cpu_seconds: usage.cpuSeconds,
    cpu_percent: Math.round(usage.cpuPercent * 10) / 10,
    sampled_at: new Date(usage.at).toISOString(),
    ...(usage.overLimit === undefined ? {} : { killed_for: usage.overLimit }),
  }
}

const quote = (line: string): string =>
  line.length > maxQuotedChars
    ? `${line.slice(0, maxQuotedChars)} … [cut at ${maxQuotedChars} characters]`
    : line

interface FailedEvent {
  readonly unit: string
  readonly instance: number
  readonly failure: string
  readonly exit_code: number | null
  readonly signal: string | null
  readonly reason: string
  readonly started_at: number | null
  /** When the incarnation's spawn began: its output from then on is quoted (an agent's setup included). */
  readonly spawned_at?: number | null
  readonly uptime_ms: number
  readonly restarts: number
  readonly at: string
}

/**
 * Write a crash report for every failure of every instance of `sam` into `reports`; returns the
 * unsubscribe function. Spawn failures get none (nothing ran; the unit's status says why); an
 * agent's setup that threw (`setup`) ran its code, and gets one.
 */
export const reportCrashes = (
  sam: Pick<Sam, "bus" | "records" | "unitStatus">,
  reports: CrashReportsTable,
  options: CrashReporterOptions,
): (() => void) => {
  const quoted = options.lastLines ?? 50
  const prune = (unit: string, now: number) => {
    reports.keepNewest(options.maxPerUnit, unit)
    reports.deleteOlderThan(new Date(now - options.maxAgeMs).toISOString())
  }
  reports.deleteOlderThan(new Date(Date.now() - options.maxAgeMs).toISOString())
  return sam.bus.subscribe((event) => {
    if (event.type !== "instance.failed") return
    const failed = event as unknown as FailedEvent
    // Nothing ran; a `setup` failure ran the agent's own code, and is reported.
    if (failed.failure === "spawn") return
    if (isCleanExit(failed)) return
    let report: CrashReport
    try {
      const records = sam.records(failed.unit).find((r) => r.instance === failed.instance)
      const since = failed.spawned_at ?? failed.started_at
      const incarnation = (records?.output ?? []).filter((line) => since === null || line.time >= since)
      const lastLines: CrashLine[] = incarnation.slice(-quoted).map((line) => ({
        time: new Date(line.time).toISOString(),
        stream: line.stream,
        line: quote(line.line),
      }))
      const instance = sam.unitStatus(failed.unit).instances.find((i) => i.instance === failed.instance)
      report = reports.insert({
        unit: failed.unit,
        instance: failed.instance,
        time: failed.at,
        failure: failed.failure,
        exitCode: failed.exit_code,
        signal: failed.signal,
        reason: failed.reason,
        uptimeMs: failed.uptime_ms,
        restarts: failed.restarts,
        lastLines,
        resources: resourcesOf(instance),
      })
      prune(failed.unit, Date.parse(failed.at))
    } catch (error) {
      sam.bus.publish({
        type: "supervisor",
        action: "crash-report-failed",
        unit: failed.unit,
        detail: `the crash report of "${failed.unit}" could not be stored: ${error instanceof Error ? error.message : String(error)}`,
      })
      return
    }
    sam.bus.publish({
      type: "crash.reported",
      unit: report.unit,
      instance: report.instance,
      // Not `id`: that is the event's own.
      crash_id: report.id,
      reason: report.reason,
    })
  })
}
