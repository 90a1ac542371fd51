// GET /api/crashes (newest first; unit, since, limit) and GET /api/crashes/:id: the crash reports
// SAM keeps in its runtime store (crashReporter.ts writes them).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { suggestionSuffix } from "../../config/suggest.ts"
import type { CrashReport } from "../../runtime/store/storeTypes.ts"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { parseSince } from "../logQuery.ts"
import { InvalidRequest, NotAvailable, NotFound } from "../problems.ts"

const summary = (report: CrashReport) => ({
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

const noReports = () =>
  new NotAvailable({ detail: "this SAM keeps no crash reports (it was started without a runtime store)" })

export const crashesLive = HttpApiBuilder.group(ControlApi, "crashes", (handlers) =>
  Effect.gen(function* () {
    const { crashReports, sam } = yield* ApiContext
    return handlers.handleAll({
      list: ({ query }) =>
        Effect.gen(function* () {
          if (!crashReports) return yield* noReports()
          let since: string | undefined
          if (query.since !== undefined) {
            const ms = parseSince(query.since, Date.now())
            if (ms === undefined) {
              const message = `expected a duration such as 10m or 2d, or an ISO time, found "${query.since}"`
              return yield* new InvalidRequest({
                detail: `since: ${message}`,
                errors: [{ path: ["since"], message }],
              })
            }
            since = new Date(ms).toISOString()
          }
          const reports = crashReports.list({
            ...(query.unit === undefined ? {} : { unit: query.unit }),
            ...(since === undefined ? {} : { since }),
            limit: query.limit ?? 50,
          })
          // A unit the config no longer has may still have reports; a name SAM never ran is a typo.
          if (query.unit !== undefined && reports.length === 0) {
            const ids = sam.unitSpecs().map((u) => u.id)
            if (!ids.includes(query.unit))
              return yield* new NotFound({
                detail: `no agent or service "${query.unit}"${suggestionSuffix(query.unit, ids)}, and no crash reports of one; GET /api/agents and GET /api/services list them`,
                id: query.unit,
              })
          }
          return { crashes: reports.map(summary) }
        }),
      get: ({ params }) =>
        Effect.gen(function* () {
          if (!crashReports) return yield* noReports()
          const report = crashReports.get(params.id)
          if (!report)
            return yield* new NotFound({
              detail: `no crash report ${params.id}; GET /api/crashes lists them (old ones are deleted by monitoring.crash_reports)`,
              id: String(params.id),
            })
          return { ...summary(report), last_lines: report.lastLines, resources: report.resources }
        }),
    })
  }),
)
