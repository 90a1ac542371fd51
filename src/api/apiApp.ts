// The control API's Effect application: the HttpApi of controlApi.ts with its handlers and
// middleware, the dashboard and the browser sign-in, as one node:http handler. apiServer.ts
// imports this module on the first request it does not answer itself, so an idle SAM never loads it.
import type { IncomingMessage, ServerResponse } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { dashboardServer } from "../dashboard/serve.ts"
import { allowedMethods } from "./allowedMethods.ts"
import { ApiContext, type ApiContextShape } from "./apiContext.ts"
import { browserAnswer, browserRoutes, formSignIn } from "./browserLogin.ts"
import { ControlApi, openApiPath } from "./controlApi.ts"
import { agentsLive } from "./handlers/agents.ts"
import { alertsLive } from "./handlers/alerts.ts"
import { capabilitiesLive } from "./handlers/capabilities.ts"
import { crashesLive } from "./handlers/crashes.ts"
import { logsLive } from "./handlers/logs.ts"
import { metricsLive } from "./handlers/metrics.ts"
import { pluginsLive } from "./handlers/plugins.ts"
import { servicesLive } from "./handlers/services.ts"
import { systemLive } from "./handlers/system.ts"
import { AuthorizationLive, RequestValidationLive } from "./middleware.ts"
import { PROBLEM_JSON, problemBody, problemResponse } from "./problems.ts"
import { requestRefusal } from "./requestGuards.ts"

/** What node:http calls for each request apiServer.ts hands on. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void

export interface ApiAppOptions {
  readonly context: ApiContextShape
  /** The server's scope: the handler's resources close with it. */
  readonly scope: Scope.Scope
  readonly maxBodyBytes: number
  /** Told about answers SAM failed to give (500s). */
  readonly report: (message: string) => void
}

/** Build the control API's handler (every endpoint, the dashboard, sign-in) in `scope`. */
export const buildApiApp = async ({
  context,
  scope,
  maxBodyBytes,
  report,
}: ApiAppOptions): Promise<ApiHandler> => {
  const groups = Layer.mergeAll(
    agentsLive,
    servicesLive,
    systemLive,
    logsLive,
    crashesLive,
    capabilitiesLive,
    pluginsLive,
    alertsLive,
    metricsLive,
  ).pipe(
    Layer.provide([AuthorizationLive, RequestValidationLive]),
    Layer.provide(Layer.succeed(ApiContext, context)),
  )
  const app = HttpApiBuilder.layer(ControlApi, { openapiPath: openApiPath }).pipe(
    Layer.provide(groups),
    Layer.provide(NodeHttpServer.layerHttpServices),
  )
  const httpEffect = await Effect.runPromise(HttpRouter.toHttpEffect(app).pipe(Scope.provide(scope)))
  const allowed = allowedMethods(ControlApi, [{ method: "GET", path: openApiPath }, ...browserRoutes])
  // The dashboard's page and assets (src/dashboard/serve.ts), for signed-in browsers (browserLogin.ts).
  const dashboard = dashboardServer()
  const answered = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refused = requestRefusal(request, maxBodyBytes)
    if (refused) return refused
    const page = browserAnswer(request, context, dashboard)
    if (page) return page
    const form = formSignIn(request, context)
    if (form) return yield* form
    return yield* httpEffect.pipe(
      Effect.flatMap((response) => routedAnswer(request, response)),
      Effect.catchCause((cause) => {
        if (isRouteNotFound(cause)) return Effect.succeed(unrouted(request, allowed(request.url)))
        return Effect.flatMap(HttpServerError.causeResponse(cause), ([response]) => {
          // An interrupted request (the client went away, or a slow one was cut off) is no failure.
          if (response.status >= 500 && !Cause.hasInterruptsOnly(cause))
            report(`control API failed to answer: ${Cause.pretty(cause)}`)
          return asProblem(response)
        })
      }),
    )
  }).pipe(Effect.provideService(ApiContext, context))
  return await Effect.runPromise(NodeHttpServer.makeHandler(answered, { scope }))
}

const pathOf = (url: string) => url.split("?")[0] ?? url

/** `/api/plugins/<name>/<more>`: answered by the plugin's own route handler. */
const isPluginRoute = (url: string) => {
  const segments = pathOf(url)
    .split("/")
    .filter((s) => s !== "")
  return segments.length > 3 && segments[0] === "api" && segments[1] === "plugins"
}

const isRouteNotFound = (cause: Cause.Cause<unknown>): boolean => {
  const error = Cause.findErrorOption(cause)
  if (error._tag === "None") return false
  const failure = error.value as { _tag?: unknown; reason?: { _tag?: unknown } }
  return failure._tag === "HttpServerError" && failure.reason?._tag === "RouteNotFound"
}

/** No route for the request: 405 with `Allow` when the path has routes for other methods, else 404. */
const unrouted = (request: HttpServerRequest.HttpServerRequest, allowed: ReadonlyArray<string>) => {
  const path = pathOf(request.url)
  if (allowed.length > 0)
    return problemResponse(
      405,
      `${request.method} is not allowed on ${path}; it allows ${allowed.join(", ")}`,
      { allow: allowed.join(", ") },
    )
  return problemResponse(404, `no route ${request.method} ${path}; GET ${openApiPath} lists every endpoint`)
}

/**
 * What a route answered. A 401 says how to authenticate. A plugin's own answers (`reply(400, ...)`)
 * are its contract and are sent as they are; SAM's other error answers become problems.
 */
const routedAnswer = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse,
) => {
  const answer =
    response.status === 401 && response.headers["www-authenticate"] === undefined
      ? HttpServerResponse.setHeader(response, "www-authenticate", 'Bearer realm="sam"')
      : response
  return isPluginRoute(request.url) ? Effect.succeed(answer) : asProblem(answer)
}

const defaultDetail = (status: number): string => {
  if (status === 415) return "send the body as application/json"
  if (status === 499) return "the client closed the request"
  return "see SAM's log"
}

/** Error answers that are not problems yet (415s from payload decoding, empty 500s) become problems. */
const asProblem = (response: HttpServerResponse.HttpServerResponse) =>
  Effect.sync(() => {
    if (response.status < 400 || (response.headers["content-type"] ?? "").includes("problem+json"))
      return response
    const text =
      response.body._tag === "Uint8Array" && response.body.body.length > 0 && response.body.body.length < 1024
        ? new TextDecoder().decode(response.body.body)
        : undefined
    const detail =
      response.status === 415 && text
        ? `${text}; send the body as application/json`
        : (text ?? defaultDetail(response.status))
    return HttpServerResponse.jsonUnsafe(problemBody(response.status, detail), {
      status: response.status,
      contentType: PROBLEM_JSON,
      headers: response.headers,
    })
  })
