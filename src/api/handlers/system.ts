// GET /api/status (counts, resources, health), GET /api/events (the live event stream, with usage
// samples and recent events when asked), GET /api/session (who is calling), DELETE /api/session
// (sign out of a browser session) and POST /api/shutdown (stop SAM as a whole; only a SAM run by
// `sam start` can).
import { Effect, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext, apiActor, auditNow } from "../apiContext.ts"
import { ControlApi, Principal } from "../controlApi.ts"
import { eventFrames } from "../eventStream.ts"
import { NotAvailable, Unprocessable } from "../problems.ts"
import { credentialStillValid } from "../requestCredential.ts"
import { hostResources } from "../resources.ts"
import { sessionCookieName, sessionIds } from "../sessions.ts"
import { agentView, countStates, overallHealth, serviceView, usageView } from "../views.ts"

/** How often a `usage` frame is sent (the supervisor samples every 2 s by default). */
export const usageEveryMs = 2_000

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
      events: ({ headers, query }) =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const recent = query.recent ?? 0
          const frames = eventFrames({
            stillAuthorized: credentialStillValid(context, request),
            bus: sam.bus,
            lastEventId: headers["last-event-id"],
            heartbeatMs: context.heartbeatMs,
            shutdown: context.shutdown,
            snapshot: () => ({
              timestamp: new Date().toISOString(),
              agents: sam.agents.list().map((s) => agentView(sam, s, usage)),
              services: sam.services.list().map((s) => serviceView(s, usage, context.gateway)),
              ...(recent > 0 ? { recent: sam.bus.since(0).slice(-recent) } : {}),
            }),
            ...(query.usage === "true"
              ? {
                  usage: {
                    everyMs: usageEveryMs,
                    sample: () => ({
                      at: new Date().toISOString(),
                      units: sam.status().units.map((s) => ({
                        ...usageView(s, usage),
                        // A service the gateway routes (its gateway requests) and every agent (its
                        // capability invocations): the rate now, as its history keeps it.
                        ...(context.monitoring !== undefined &&
                        (s.kind === "agent" || context.gateway?.serviceGateway(s.id) !== undefined)
                          ? { requests_per_second: context.monitoring.requestRate(s.id) }
                          : {}),
                      })),
                    }),
                  },
                }
              : {}),
          })
          return HttpServerResponse.stream(frames.pipe(Stream.encodeText), {
            contentType: "text/event-stream",
            headers: sseHeaders,
          })
        }),
      session: () =>
        Effect.gen(function* () {
          const principal = yield* Principal
          return { name: principal.name, role: principal.role }
        }),
      // Not audited, as signing in is not: the audit log records what changes SAM and its units. A
      // cookie-authenticated sign-out passed the Origin rule (middleware.ts); refusals are audited there.
      endSession: () =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const name = sessionCookieName(context.port())
          // Every live session the request carries ends: signing out leaves none of them behind.
          const ended = sessionIds(request.headers.cookie, context.port()).filter((id) =>
            context.sessions.end(id),
          )
          if (ended.length === 0)
            return yield* new Unprocessable({
              detail:
                "this request carries no browser session to end: it authenticated with a bearer token, " +
                "which stays valid until it is removed from security.api_tokens (or <state_dir>/token is replaced)",
            })
          return HttpServerResponse.empty({
            status: 204,
            headers: {
              "set-cookie": `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
              "cache-control": "no-store",
            },
          })
        }),
      shutdown: () =>
        Effect.gen(function* () {
          const principal = yield* Principal
          const stop = context.requestShutdown
          if (stop === undefined)
            return yield* new NotAvailable({
              detail:
                "this SAM is embedded in a program (createSam), not run by `sam start`: stop it from that program",
            })
          yield* Effect.promise(() =>
            auditNow(context, {
              actor: apiActor(principal),
              action: "sam.shutdown",
              target: "sam",
              result: "ok",
              detail: "SAM stops its units, then itself",
            }),
          )
          // After this answer is on its way: the stop closes this server last, once units are down.
          setImmediate(() => stop(`token "${principal.name}" (${principal.role})`))
          return { stopping: true as const, pid: process.pid }
        }),
    })
  }),
)
