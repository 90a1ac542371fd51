// A plugin's own control-API routes (`ctx.api.get/post/route`), served inside the HttpApi after
// authorization: the version serving now and its route table are looked up per request (so a hot
// reload swaps routes without touching the router), the body is read and parsed, the handler runs
// counted in flight on that version, and its answer is sent. Mutating calls are audited.
import type { IncomingMessage, ServerResponse } from "node:http"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { suggestionSuffix } from "../../config/suggest.ts"
import { isReply } from "../../plugins/reply.ts"
import { matchRoute } from "../../plugins/routeTable.ts"
import type { PluginRequest } from "../../plugins/types.ts"
import { type ApiContextShape, apiActor, auditNow, type LivePlugin } from "../apiContext.ts"
import { Principal } from "../controlApi.ts"
import { isJsonMediaType } from "../mediaType.ts"
import { InvalidRequest, NotFound, PluginUnavailable, problemResponse } from "../problems.ts"

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const readOnly = (method: string) => method === "GET" || method === "HEAD"

/** `/api/plugins/<name>/items/a%20b?x=1` → the raw path, the path below the plugin, the query. */
const splitUrl = (url: string) => {
  const at = url.indexOf("?")
  const path = at < 0 ? url : url.slice(0, at)
  const segments = path.split("/").filter((s) => s !== "")
  return {
    path,
    // Below `api`, `plugins` and the name, as sent (still percent-encoded).
    below: `/${segments.slice(3).join("/")}`,
    atPlugin: segments.length <= 3,
    query: new URLSearchParams(at < 0 ? "" : url.slice(at + 1)),
  }
}

/** The plugin's answer as a response; a value JSON cannot carry is the plugin's failure. */
const answerOf = (plugin: string, result: unknown): HttpServerResponse.HttpServerResponse => {
  const reply = isReply(result) ? result : undefined
  const status = reply ? reply.status : result === undefined ? 204 : 200
  const body = reply ? reply.body : result
  const { "content-type": contentType, ...headers } = reply?.headers ?? {}
  if (body === undefined) return HttpServerResponse.empty({ status, headers })
  if (typeof body === "string" && contentType !== undefined)
    return HttpServerResponse.text(body, { status, headers, contentType })
  let json: string | undefined
  try {
    json = JSON.stringify(body)
  } catch (error) {
    return problemResponse(500, `plugin "${plugin}" answered a value that is not JSON: ${describe(error)}`)
  }
  return HttpServerResponse.text(json ?? "null", {
    status,
    headers,
    contentType: contentType ?? "application/json",
  })
}

/** The body as the handler sees it: parsed JSON for a JSON content type, the text otherwise. */
const bodyOf = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function* () {
    const text = yield* Effect.orDie(request.text)
    if (text === "") return undefined
    if (!isJsonMediaType(request.headers["content-type"])) return text
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      return yield* new InvalidRequest({
        detail:
          `invalid payload: the body is not valid JSON (${describe(error)}); send JSON as ` +
          "application/json, or anything else with another content type",
        errors: [{ path: ["payload"], message: "Expected a valid JSON body" }],
      })
    }
  })

/** Resolves once a response the handler wrote itself (`res`) is finished or its socket is gone. */
const finished = (res: ServerResponse) =>
  Effect.callback<void>((resume) => {
    if (res.writableEnded || res.destroyed) return resume(Effect.void)
    const done = () => resume(Effect.void)
    res.once("finish", done)
    res.once("close", done)
    return Effect.sync(() => {
      res.off("finish", done)
      res.off("close", done)
    })
  })

const runRoute = (
  live: LivePlugin,
  request: HttpServerRequest.HttpServerRequest,
  url: ReturnType<typeof splitUrl>,
) =>
  Effect.gen(function* () {
    const method = request.method
    const match = matchRoute(live.routes, method, url.below)
    if (match._tag === "NotFound") {
      const known = live.routes.map((r) => `${r.method} ${r.path}`)
      return yield* new NotFound({
        detail: `plugin "${live.name}" has no route ${method} ${url.below}${known.length > 0 ? `; it serves ${known.join(", ")}` : ""}`,
        id: live.name,
      })
    }
    if (match._tag === "MethodNotAllowed")
      return problemResponse(
        405,
        `${method} is not allowed on ${url.path}; plugin "${live.name}" serves ${match.allowed.join(", ")} there`,
        { allow: match.allowed.join(", ") },
      )
    const body = yield* bodyOf(request)
    const res = NodeHttpServerRequest.toServerResponse(request) as ServerResponse
    const pluginRequest: PluginRequest = {
      method,
      path: url.below,
      params: match.params,
      query: url.query,
      headers: (NodeHttpServerRequest.toIncomingMessage(request) as IncomingMessage).headers,
      body,
      res,
    }
    const outcome = yield* Effect.tryPromise({
      try: () => Promise.resolve().then(() => match.route.handler(pluginRequest)),
      catch: (error) => error,
    }).pipe(Effect.result)
    // The handler wrote to `res` itself (a stream): SAM writes nothing, and waits until it is done.
    if (res.headersSent) {
      yield* finished(res)
      return HttpServerResponse.empty({ status: res.statusCode })
    }
    if (outcome._tag === "Failure")
      return problemResponse(
        500,
        `plugin "${live.name}" failed to handle ${method} ${url.below}: ${describe(outcome.failure)}`,
      )
    return answerOf(live.name, outcome.success)
  })

const lookUp = (context: ApiContextShape, name: string, request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function* () {
    const plugins = context.plugins
    const statuses = plugins?.list() ?? []
    const status = statuses.find((p) => p.name === name)
    if (!status)
      return yield* new NotFound({
        detail: `no plugin "${name}"${suggestionSuffix(
          name,
          statuses.map((p) => p.name),
        )}; GET /api/plugins lists them`,
        id: name,
      })
    const url = splitUrl(request.url)
    if (url.atPlugin)
      return readOnly(request.method)
        ? HttpServerResponse.jsonUnsafe(status)
        : problemResponse(
            405,
            `${request.method} is not allowed on ${url.path}; read a plugin's status with GET`,
            {
              allow: "GET, HEAD",
            },
          )
    const live = plugins?.liveInstance(name)
    if (!live)
      return yield* new PluginUnavailable({
        detail: `plugin "${name}" is ${status.status}${status.error ? `: ${status.error}` : ""}`,
        plugin: name,
        state: status.status,
      })
    // Counted in flight from here, so a swap during the body read still waits for this request.
    return yield* Effect.acquireUseRelease(
      Effect.sync(() => live.enter()),
      () => runRoute(live, request, url),
      (leave) => Effect.sync(leave),
    )
  })

/** Serve `/api/plugins/<name>` (its status) and `/api/plugins/<name>/...` (its routes). */
export const servePluginRoute = (
  context: ApiContextShape,
  name: string,
  request: HttpServerRequest.HttpServerRequest,
) =>
  Effect.gen(function* () {
    const served = lookUp(context, name, request)
    if (readOnly(request.method)) return yield* served
    const principal = yield* Principal
    const path = splitUrl(request.url).path
    const audit = (status: number) =>
      Effect.promise(() =>
        auditNow(context, {
          actor: apiActor(principal),
          action: `${request.method} ${path}`,
          target: path,
          result: status < 400 ? "ok" : "failed",
          detail: `answered ${status}`,
        }),
      )
    return yield* served.pipe(
      Effect.tap((response) => audit(response.status)),
      Effect.tapError((problem) => audit(problem.status)),
    )
  })
