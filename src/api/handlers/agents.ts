// GET /api/agents (paged, filtered), GET /api/agents/:id (and its status) and the agent lifecycle
// commands.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { Unprocessable } from "../problems.ts"
import { agentCapabilities, agentView, healthView, inFlightOf } from "../views.ts"
import { unitMetrics } from "./metrics.ts"
import { lookup, runUnitCommand, stopOptions } from "./unitCommand.ts"

const defaultPageSize = 50

export const agentsLive = HttpApiBuilder.group(ControlApi, "agents", (handlers) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const { sam, usage } = context
    const view = (id: string) => Effect.sync(() => agentView(sam, sam.agents.status(id), usage))
    const command =
      (name: "stop" | "restart" | "suspend" | "resume") =>
      (request: { params: { id: string }; payload: { graceful?: boolean; timeout?: number } | null }) =>
        runUnitCommand("agents", request.params.id, name, stopOptions(request.payload)).pipe(
          Effect.andThen(view(request.params.id)),
        )
    return handlers.handleAll({
      metrics: ({ params }) =>
        unitMetrics(context.monitoring, "agents", params.id, () => sam.agents.status(params.id)),
      list: ({ query }) =>
        Effect.sync(() => {
          const page = query.page ?? 1
          const pageSize = query.pageSize ?? defaultPageSize
          const matching = sam.agents.list().filter((s) => {
            if (query.status === "ready" && !(s.state === "running" && s.ready)) return false
            if (query.status === "unready" && !(s.state === "running" && !s.ready)) return false
            if (
              query.status !== undefined &&
              query.status !== "ready" &&
              query.status !== "unready" &&
              s.state !== query.status
            )
              return false
            return query.capability === undefined || agentCapabilities(sam, s.id).includes(query.capability)
          })
          const slice = matching.slice((page - 1) * pageSize, page * pageSize)
          return {
            agents: slice.map((s) => agentView(sam, s, usage)),
            total: matching.length,
            page,
            pageSize,
          }
        }),
      get: ({ params }) =>
        lookup("agents", params.id, () => sam.agents.status(params.id)).pipe(
          Effect.map((status) => agentView(sam, status, usage)),
        ),
      status: ({ params }) =>
        lookup("agents", params.id, () => sam.agents.status(params.id)).pipe(
          Effect.map((status) => {
            const agent = agentView(sam, status, usage)
            return {
              id: status.id,
              status: status.state,
              health: healthView(sam, status),
              metrics: {
                restarts: agent.restarts,
                instances: agent.instances,
                pid: agent.pid,
                cpu_percent: agent.cpu_percent,
                memory_bytes: agent.memory_bytes,
                in_flight: inFlightOf(sam, status.id),
              },
              uptime: agent.uptime,
            }
          }),
        ),
      start: ({ params, payload }) =>
        Effect.gen(function* () {
          if (payload?.config !== undefined && Object.keys(payload.config).length > 0)
            return yield* new Unprocessable({
              detail:
                "per-start config overrides are not supported: change the agent in sam.config.ts and run `sam reload`",
            })
          const status = yield* lookup("agents", params.id, () => sam.agents.status(params.id))
          const running = status.state === "running" || status.state === "suspended"
          yield* runUnitCommand("agents", params.id, payload?.force === true && running ? "restart" : "start")
          return yield* view(params.id)
        }),
      stop: command("stop"),
      restart: command("restart"),
      suspend: command("suspend"),
      resume: command("resume"),
    })
  }),
)
