// The typed client of the control API, used by the CLI and the tests. Its request and response
// types come from the HttpApi definition (controlApi.ts) at compile time only; at run time it is
// plain node:http over a table of method and path per endpoint, so loading it loads no Effect.
// (node:http rather than fetch: undici's start-up alone costs more than the rest of `sam ps`.)
import type { IncomingMessage } from "node:http"
import type { HttpApiSchema } from "effect/http-api"
import { nodeHttp, nodeHttps } from "../runtime/os/nodeHttp.ts"
import { anObject, answerChecks } from "./answerShape.ts"
import type { ControlApi } from "./controlApi.ts"
import { ControlApiError, notSam, type Problem, readAll, resetCodes, snippet } from "./controlApiError.ts"
import { readSse } from "./sseReader.ts"

export { ControlApiError, type Problem } from "./controlApiError.ts"

type Groups = (typeof ControlApi)["groups"]
/** The API's groups: `agents`, `services`, `system`, `capabilities`, `plugins`. */
export type GroupName = keyof Groups & string
type EndpointMap<G extends GroupName> = Groups[G]["endpoints"]
export type EndpointName<G extends GroupName> = keyof EndpointMap<G> & string

type IsNever<T> = [T] extends [never] ? true : false
type Member<X, K extends string> = X extends { readonly [P in K]: infer V } ? V : never
type TypeOf<S> = S extends { readonly Type: infer T } ? T : never
/** A member of endpoint E of group G: `~Params`, `~Success`, `method`, ... */
type Of<G extends GroupName, E extends EndpointName<G>, K extends string> = Member<EndpointMap<G>[E], K>
type SseSchema = { readonly _tag: "StreamSse" }
/** A request part: absent when the endpoint has none, optional when everything in it is. */
type Part<K extends string, T> =
  IsNever<T> extends true ? unknown : {} extends T ? { readonly [P in K]?: T } : { readonly [P in K]: T }

/** What a call sends: `params` (path), `query`, `payload` (JSON body) and `headers`, as declared. */
export type RequestOf<G extends GroupName, E extends EndpointName<G>> = Part<
  "params",
  TypeOf<Of<G, E, "~Params">>
> &
  Part<"query", TypeOf<Of<G, E, "~Query">>> &
  Part<"payload", TypeOf<Of<G, E, "~Payload">>> &
  Part<"headers", TypeOf<Of<G, E, "~Headers">>>

/** The JSON answer of an endpoint (its event-stream answer, if any, excluded). */
export type ResponseOf<G extends GroupName, E extends EndpointName<G>> = TypeOf<
  Exclude<Of<G, E, "~Success">, SseSchema>
>

/** The `data` of the events an event-stream endpoint sends. */
export type EventDataOf<G extends GroupName, E extends EndpointName<G>> =
  Extract<Of<G, E, "~Success">, SseSchema> extends HttpApiSchema.StreamSse<infer _E, infer _Err, infer V>
    ? V
    : never

interface Route<Method, Path, Sse> {
  readonly method: Method
  readonly path: Path
  /** Whether it can answer as an event stream (Accept: text/event-stream). */
  readonly sse: Sse
}

type RouteOf<G extends GroupName, E extends EndpointName<G>> = Route<
  Of<G, E, "method">,
  Of<G, E, "path">,
  IsNever<Extract<Of<G, E, "~Success">, SseSchema>> extends true ? false : true
>

/** Method and path of every endpoint, exactly as the HttpApi declares them (checked by tsc). */
export type RouteTable = { readonly [G in GroupName]: { readonly [E in EndpointName<G>]: RouteOf<G, E> } }

/**
 * The run-time half of the client. `satisfies RouteTable` makes this table and controlApi.ts
 * agree: a missing, extra or renamed endpoint, or a changed path or method, fails the build.
 */
export const routes = {
  agents: {
    list: { method: "GET", path: "/api/agents", sse: false },
    get: { method: "GET", path: "/api/agents/:id", sse: false },
    status: { method: "GET", path: "/api/agents/:id/status", sse: false },
    metrics: { method: "GET", path: "/api/agents/:id/metrics", sse: false },
    start: { method: "POST", path: "/api/agents/:id/start", sse: false },
    stop: { method: "POST", path: "/api/agents/:id/stop", sse: false },
    restart: { method: "POST", path: "/api/agents/:id/restart", sse: false },
    suspend: { method: "POST", path: "/api/agents/:id/suspend", sse: false },
    resume: { method: "POST", path: "/api/agents/:id/resume", sse: false },
  },
  services: {
    list: { method: "GET", path: "/api/services", sse: false },
    get: { method: "GET", path: "/api/services/:id", sse: false },
    health: { method: "GET", path: "/api/services/:id/health", sse: false },
    metrics: { method: "GET", path: "/api/services/:id/metrics", sse: false },
    start: { method: "POST", path: "/api/services/:id/start", sse: false },
    stop: { method: "POST", path: "/api/services/:id/stop", sse: false },
    restart: { method: "POST", path: "/api/services/:id/restart", sse: false },
    suspend: { method: "POST", path: "/api/services/:id/suspend", sse: false },
    resume: { method: "POST", path: "/api/services/:id/resume", sse: false },
    scale: { method: "POST", path: "/api/services/:id/scale", sse: false },
  },
  system: {
    status: { method: "GET", path: "/api/status", sse: false },
    events: { method: "GET", path: "/api/events", sse: true },
    session: { method: "GET", path: "/api/session", sse: false },
    endSession: { method: "DELETE", path: "/api/session", sse: false },
    shutdown: { method: "POST", path: "/api/shutdown", sse: false },
  },
  capabilities: {
    list: { method: "GET", path: "/api/capabilities", sse: false },
    invoke: { method: "POST", path: "/api/capabilities/:name/invoke", sse: true },
  },
  plugins: {
    list: { method: "GET", path: "/api/plugins", sse: false },
    reload: { method: "POST", path: "/api/config/reload", sse: false },
    routeGET: { method: "GET", path: "/api/plugins/:name/*", sse: false },
    routePOST: { method: "POST", path: "/api/plugins/:name/*", sse: false },
    routePUT: { method: "PUT", path: "/api/plugins/:name/*", sse: false },
    routePATCH: { method: "PATCH", path: "/api/plugins/:name/*", sse: false },
    routeDELETE: { method: "DELETE", path: "/api/plugins/:name/*", sse: false },
  },
  logs: {
    service: { method: "GET", path: "/api/services/:id/logs", sse: true },
    agent: { method: "GET", path: "/api/agents/:id/logs", sse: true },
  },
  crashes: {
    list: { method: "GET", path: "/api/crashes", sse: false },
    get: { method: "GET", path: "/api/crashes/:id", sse: false },
  },
  alerts: {
    list: { method: "GET", path: "/api/alerts", sse: false },
  },
  metrics: {
    // At monitoring.metrics.path on the server; the client asks /metrics (the default).
    scrape: { method: "GET", path: "/metrics", sse: false },
  },
} as const satisfies RouteTable

export interface CallOptions {
  readonly signal?: AbortSignal
}

type Call<G extends GroupName, E extends EndpointName<G>> =
  {} extends RequestOf<G, E>
    ? (request?: RequestOf<G, E>, options?: CallOptions) => Promise<ResponseOf<G, E>>
    : (request: RequestOf<G, E>, options?: CallOptions) => Promise<ResponseOf<G, E>>

type StreamCall<G extends GroupName, E extends EndpointName<G>> = (
  request: RequestOf<G, E>,
  options?: CallOptions,
) => Promise<AsyncGenerator<ServerEvent<EventDataOf<G, E>>, void>>

type JsonEndpoints<G extends GroupName> = {
  [E in EndpointName<G>]: IsNever<ResponseOf<G, E>> extends true ? never : E
}[EndpointName<G>]
type SseEndpoints<G extends GroupName> = {
  [E in EndpointName<G>]: RouteOf<G, E>["sse"] extends true ? E : never
}[EndpointName<G>]
type SseGroups = { [G in GroupName]: IsNever<SseEndpoints<G>> extends true ? never : G }[GroupName]

/** One event of an event-stream answer; `data` is the parsed JSON. */
export interface ServerEvent<A> {
  readonly event: string
  readonly id: string | undefined
  readonly data: A
}

/**
 * `client.<group>.<endpoint>(request)` resolves with the endpoint's JSON answer;
 * `client.streams.<group>.<endpoint>(request)` with its events (once the answer's status is in).
 * Both reject with a ControlApiError.
 *
 * @example
 * ```ts
 * const sam = controlClient({ url: "http://127.0.0.1:7070", token })
 * const { services } = await sam.services.list()
 * await sam.agents.stop({ params: { id: "helper" }, payload: { graceful: false } })
 * for await (const e of await sam.streams.system.events({})) console.log(e.event, e.data)
 * ```
 */
export type ControlClient = {
  readonly [G in GroupName]: { readonly [E in JsonEndpoints<G>]: Call<G, E> }
} & {
  readonly url: string
  readonly streams: { readonly [G in SseGroups]: { readonly [E in SseEndpoints<G>]: StreamCall<G, E> } }
}

export interface ControlClientOptions {
  /** Where SAM's API is, without a trailing slash: `http://127.0.0.1:7070`. */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined
}

interface AnyRequest {
  readonly params?: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, unknown>>
  readonly payload?: unknown
  readonly headers?: Readonly<Record<string, string | undefined>>
}

type AnyRoute = Route<string, string, boolean>

const pathOf = (route: AnyRoute, request: AnyRequest): string => {
  const path = route.path
    .replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(request.params?.[name] ?? ""))
    // A plugin route's rest of the path: its segments encoded, its slashes kept.
    .replace(/\*$/, () => (request.params?.["*"] ?? "").split("/").map(encodeURIComponent).join("/"))
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(request.query ?? {}))
    if (value !== undefined) query.append(key, String(value))
  const search = query.toString()
  return search === "" ? path : `${path}?${search}`
}

/** One HTTP exchange: resolves with the answer once its status and headers are in. */
const exchange = async (
  target: URL,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
): Promise<IncomingMessage> => {
  // TLS is loaded only for an https URL (a SAM behind a proxy): plain http is the common case.
  const request = target.protocol === "https:" ? nodeHttps().request : nodeHttp().request
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: init.method,
        headers:
          init.body === undefined
            ? init.headers
            : { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) },
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      },
      resolve,
    )
    req.once("error", reject)
    req.end(init.body)
  })
}

const notJson = Symbol("not JSON")

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** A client for the control API at `options.url`. */
export const controlClient = (options: ControlClientOptions): ControlClient => {
  const url = options.url.replace(/\/+$/, "")
  const send = async (
    route: AnyRoute,
    request: AnyRequest = {},
    callOptions: CallOptions = {},
    accept = "application/json",
  ): Promise<IncomingMessage> => {
    const endpoint = `${route.method} ${route.path}`
    const headers: Record<string, string> = { accept }
    for (const [name, value] of Object.entries(request.headers ?? {}))
      if (value !== undefined) headers[name] = value
    if (options.token) headers.authorization = `Bearer ${options.token}`
    if (request.payload !== undefined) headers["content-type"] = "application/json"
    let response: IncomingMessage
    try {
      response = await exchange(new URL(`${url}${pathOf(route, request)}`), {
        method: route.method,
        headers,
        ...(request.payload === undefined ? {} : { body: JSON.stringify(request.payload) }),
        ...(callOptions.signal === undefined ? {} : { signal: callOptions.signal }),
      })
    } catch (error) {
      if (callOptions.signal?.aborted) throw error
      const why = error instanceof Error ? error.message : String(error)
      // Accepted, then closed without a word: something listens there, so SAM is not simply down.
      if (resetCodes.has((error as NodeJS.ErrnoException).code))
        throw new ControlApiError({
          endpoint,
          url,
          message:
            `what listens at ${url} closed the connection without answering ${endpoint} (${why}): ` +
            "it may not be SAM; point the CLI at SAM with --url or SAM_URL",
          cause: error,
        })
      throw new ControlApiError({
        endpoint,
        url,
        unreachable: true,
        message: `no answer from SAM at ${url} (${why})`,
        cause: error,
      })
    }
    const status = response.statusCode ?? 0
    if (status >= 200 && status < 300) return response
    const text = await readAll(response, endpoint, url)
    if (text.trim() === "")
      throw new ControlApiError({
        endpoint,
        url,
        status,
        message: `HTTP ${status} from ${endpoint} at ${url}`,
      })
    // SAM's errors are problems (application/problem+json); an HTML error page is a proxy's or another program's.
    const body = parseJson(text)
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw notSam(response, endpoint, url, snippet(text))
    const problem = body as Problem
    throw new ControlApiError({
      endpoint,
      url,
      status,
      problem,
      message: problem.detail ?? problem.title ?? `HTTP ${status} from ${endpoint} at ${url}`,
    })
  }
  const call = async (route: AnyRoute, request?: AnyRequest, callOptions?: CallOptions) => {
    const response = await send(route, request, callOptions)
    const endpoint = `${route.method} ${route.path}`
    const text = await readAll(response, endpoint, url)
    if (text === "") return undefined
    const type = response.headers["content-type"] ?? ""
    // JSON, except the metrics endpoint's Prometheus text.
    if (route.path === "/metrics" && type.startsWith("text/plain")) return text
    let answer: unknown
    try {
      answer = type.includes("json") ? JSON.parse(text) : notJson
    } catch {
      answer = notJson
    }
    if (answer === notJson) throw notSam(response, endpoint, url, snippet(text))
    // A plugin's own route answers what the plugin decides; every other endpoint an object.
    const misfit = route.path.endsWith("*") ? undefined : (answerChecks[endpoint] ?? anObject)(answer, "")
    if (misfit !== undefined)
      throw notSam(
        response,
        endpoint,
        url,
        misfit,
        "another program may hold that port, or a SAM of another version than this CLI",
      )
    return answer
  }
  async function* events(response: IncomingMessage): AsyncGenerator<ServerEvent<unknown>, void> {
    try {
      for await (const message of readSse(response))
        yield { event: message.event, id: message.id, data: parseJson(message.data) }
    } finally {
      // A consumer that stops early closes the connection (SAM's stream would go on forever).
      response.destroy()
    }
  }
  const stream = async (route: AnyRoute, request?: AnyRequest, callOptions?: CallOptions) =>
    events(await send(route, request, callOptions, "text/event-stream"))

  const client: Record<string, unknown> = { url }
  const streams: Record<string, Record<string, unknown>> = {}
  for (const [group, endpoints] of Object.entries(routes) as Array<[string, Record<string, AnyRoute>]>) {
    const calls: Record<string, unknown> = {}
    const streamCalls: Record<string, unknown> = {}
    for (const [name, route] of Object.entries(endpoints)) {
      calls[name] = (request?: AnyRequest, callOptions?: CallOptions) => call(route, request, callOptions)
      if (route.sse)
        streamCalls[name] = (request?: AnyRequest, callOptions?: CallOptions) =>
          stream(route, request, callOptions)
    }
    client[group] = calls
    if (Object.keys(streamCalls).length > 0) streams[group] = streamCalls
  }
  client.streams = streams
  // The shape built above is the route table's, which tsc checked against the HttpApi.
  return client as ControlClient
}
