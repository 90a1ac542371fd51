// GET /api/crashes (newest first; unit, since, limit) and GET /api/crashes/:id: the crash reports
// SAM keeps in its runtime store (crashReporter.ts writes them).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { suggestionSuffix } from "../../config/suggest.ts"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { crashSummary, crashUnitFilter, crashView } from "../crashViews.ts"
import { impossibleInstance } from "../instanceRange.ts"
import { parseSince } from "../logSince.ts"
import { NotAvailable, NotFound } from "../problems.ts"

const noReports = () =>
  new NotAvailable({ detail: "this SAM keeps no crash reports (it was started without a runtime store)" })

export const crashesLive = HttpApiBuilder.group(ControlApi, "crashes", (handlers) =>
  Effect.gen(function* () {
    const { crashReports, sam } = yield* ApiContext
    return handlers.handleAll({
      list: ({ query }) =>
        Effect.gen(function* () {
          if (!crashReports) return yield* noReports()
          // The query schema checked `since` already (CrashListQuery).
          const sinceMs = query.since === undefined ? undefined : parseSince(query.since, Date.now())
          const since = sinceMs === undefined ? undefined : new Date(sinceMs).toISOString()
          // `web#1`, as the list names an instance, is unit web, instance 1.
          const filter = query.unit === undefined ? undefined : crashUnitFilter(query.unit)
          const unit = filter?.unit
          const reports = crashReports.list({
            ...(filter === undefined ? {} : filter),
            ...(since === undefined ? {} : { since }),
            limit: query.limit ?? 50,
          })
          // A unit the config no longer has may still have reports; a name SAM never ran is a typo,
          // and so is an instance it can never run (one a scale down removed may have reports).
          if (unit !== undefined && reports.length === 0) {
            const specs = sam.unitSpecs()
            const ids = specs.map((u) => u.id)
            if (!ids.includes(unit))
              return yield* new NotFound({
                detail: `no agent or service "${unit}"${suggestionSuffix(unit, ids)}, and no crash reports of one; \`sam ps\` (GET /api/services, GET /api/agents) lists them`,
                id: unit,
              })
            const spec = specs.find((u) => u.id === unit)
            const impossible = impossibleInstance(spec, filter?.instance, ["query", "unit"])
            if (impossible) return yield* impossible
          }
          return { crashes: reports.map(crashSummary) }
        }),
      get: ({ params }) =>
        Effect.gen(function* () {
          if (!crashReports) return yield* noReports()
          const report = crashReports.get(params.id)
          if (!report)
            return yield* new NotFound({
              detail: `no crash report ${params.id}; \`sam crashes\` (GET /api/crashes) lists them (old ones are deleted by monitoring.crash_reports)`,
              id: String(params.id),
            })
          return crashView(report)
        }),
    })
  }),
)
