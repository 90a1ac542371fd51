// GET /metrics (monitoring.metrics.path: the Prometheus text of SAM's registry) and the per-unit
// history behind GET /api/{services,agents}/:id/metrics, from the monitoring the server was given.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext, type MonitoringBackend } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { NotAvailable, NotFound } from "../problems.ts"
import { lookup, type UnitKindPath } from "./unitCommand.ts"

const noMonitoring = () =>
  new NotAvailable({ detail: "this SAM runs without monitoring (it was not started with createSam)" })

/** A unit's history, or 404 for a unit that is not of `kind`, or 501 without monitoring. */
export const unitMetrics = (
  monitoring: MonitoringBackend | undefined,
  kind: UnitKindPath,
  id: string,
  check: () => unknown,
) =>
  Effect.gen(function* () {
    yield* lookup(kind, id, check)
    if (!monitoring) return yield* noMonitoring()
    return monitoring.unitMetrics(id)
  })

export const metricsLive = HttpApiBuilder.group(ControlApi, "metrics", (handlers) =>
  Effect.gen(function* () {
    const { monitoring } = yield* ApiContext
    return handlers.handleAll({
      scrape: () =>
        Effect.gen(function* () {
          if (!monitoring)
            return yield* new NotFound({ detail: "this SAM serves no metrics (it runs without monitoring)" })
          if (!monitoring.settings.enabled)
            return yield* new NotFound({
              detail: "metrics are turned off (monitoring.metrics.enabled: false)",
            })
          return yield* Effect.promise(() => monitoring.scrape())
        }),
    })
  }),
)
