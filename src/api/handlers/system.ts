// GET /api/status (counts, resources, health) and GET /api/events (the live event stream).
import { Effect, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext } from "../apiContext.ts"
import { ControlApi } from "../controlApi.ts"
import { eventFrames } from "../eventStream.ts"
import { hostResources } from "../resources.ts"
import { agentView, countStates, overallHealth, serviceView } from "../views.ts"

/** Headers of every SSE response: no caching, no proxy buffering. */
export const sseHeaders = { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" }

export const systemLive = HttpApiBuilder.group(ControlApi, "system", (handlers) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const { sam, usage } = context
    return handlers.handleAll({
      status: () =>
        Effect.gen(function* () {
          const status = sam.status()
          const agents = status.units.filter((u) => u.kind === "agent")
          const services = status.units.filter((u) => u.kind === "service")
          const resources = yield* Effect.promise(() => hostResources(usage, context.stateDir))
          const watchdog = context.monitoring?.watchdog
          return {
            timestamp: status.timestamp,
            uptime: Math.round(status.uptimeMs) / 1000,
            version: context.version,
            agents: countStates(agents),
            services: countStates(services),
            resources,
            health: overallHealth(status.units, watchdog?.status()),
            ...(watchdog === undefined ? {} : { watchdog: watchdog.report() }),
          }
        }),
      events: ({ headers }) =>
        Effect.sync(() => {
          const frames = eventFrames({
            bus: sam.bus,
            lastEventId: headers["last-event-id"],
            heartbeatMs: context.heartbeatMs,
            shutdown: context.shutdown,
            snapshot: () => ({
              timestamp: new Date().toISOString(),
              agents: sam.agents.list().map((s) => agentView(sam, s, usage)),
              services: sam.services.list().map((s) => serviceView(s, usage)),
            }),
          })
          return HttpServerResponse.stream(frames.pipe(Stream.encodeText), {
            contentType: "text/event-stream",
            headers: sseHeaders,
          })
        }),
    })
  }),
)
