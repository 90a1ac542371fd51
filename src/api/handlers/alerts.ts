// GET /api/alerts: the alerts of monitoring.alerts rules that are firing or pending now, and the
// recent ones from the runtime store's alert history (or this SAM's memory without a store).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { NotAvailable } from "../problems.ts"

export const alertsLive = HttpApiBuilder.group(ControlApi, "alerts", (handlers) =>
  Effect.gen(function* () {
    const { monitoring } = yield* ApiContext
    return handlers.handleAll({
      list: ({ query }) =>
        Effect.gen(function* () {
          if (!monitoring)
            return yield* new NotAvailable({
              detail:
                "this SAM runs without monitoring, so no alert rules (it was not started with createSam)",
            })
          return {
            active: monitoring.alerts.active(),
            recent: monitoring.alerts.recent(query.limit ?? 50),
            rules: monitoring.alerts.ruleNames,
          }
        }),
    })
  }),
)
