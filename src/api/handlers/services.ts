// GET /api/services (with the dependency graph), GET /api/services/:id (and its health), the
// service lifecycle commands and POST /api/services/:id/scale (scale.ts).
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { dependencyGraph, healthView, serviceView } from "../views.ts"
import { unitMetrics } from "./metrics.ts"
import { runScale } from "./scale.ts"
import { lookup, runUnitCommand, stopOptions } from "./unitCommand.ts"

export const servicesLive = HttpApiBuilder.group(ControlApi, "services", (handlers) =>
  Effect.gen(function* () {
    const { sam, usage, monitoring, gateway } = yield* ApiContext
    const command =
      (name: "start" | "stop" | "restart" | "suspend" | "resume") =>
      (request: { params: { id: string }; payload: { graceful?: boolean; timeout?: number } | null }) =>
        runUnitCommand("services", request.params.id, name, stopOptions(request.payload)).pipe(
          Effect.andThen(
            Effect.sync(() => serviceView(sam.services.status(request.params.id), usage, gateway)),
          ),
        )
    return handlers.handleAll({
      metrics: ({ params }) =>
        unitMetrics(monitoring, "services", params.id, () => sam.services.status(params.id)),
      list: () =>
        Effect.sync(() => {
          const services = sam.services.list().map((s) => serviceView(s, usage, gateway))
          return { services, total: services.length, dependencies: dependencyGraph(sam) }
        }),
      get: ({ params }) =>
        lookup("services", params.id, () => sam.services.status(params.id)).pipe(
          Effect.map((status) => serviceView(status, usage, gateway)),
        ),
      health: ({ params }) =>
        lookup("services", params.id, () => sam.services.status(params.id)).pipe(
          Effect.map((status) => ({
            id: status.id,
            status: status.state,
            health: healthView(sam, status),
            endpoints: status.instances.map((i) => ({
              instance: i.instance,
              status: i.state,
              ready: i.ready,
              url: i.url ?? null,
              port: i.port ?? null,
              pid: i.pid ?? null,
            })),
            dependencies: status.dependsOn.map((dep) => {
              const d = sam.status().units.find((u) => u.id === dep)
              return { id: dep, status: d?.state ?? "stopped", ready: d?.ready ?? false }
            }),
          })),
        ),
      start: command("start"),
      stop: command("stop"),
      restart: command("restart"),
      suspend: command("suspend"),
      resume: command("resume"),
      scale: ({ params, payload }) =>
        runScale(params.id, payload.instances).pipe(
          Effect.andThen(Effect.sync(() => serviceView(sam.services.status(params.id), usage, gateway))),
        ),
    })
  }),
)
