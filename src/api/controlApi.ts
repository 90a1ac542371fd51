// The control API as one Effect HttpApi definition: paths, request and response schemas, errors,
// the role each endpoint needs and the bearer security scheme. The server (apiServer.ts), the
// typed client (controlClient.ts, from its types only) and GET /api/openapi.json derive from it.

import { Context, Schema } from "effect"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi,
} from "effect/http-api"
import { metricsRoute, openApiPath } from "./apiPaths.ts"
import {
  CapabilityBusy,
  CapabilityFailed,
  CapabilityNotFound,
  CapabilityTimeout,
  CapabilityUnavailable,
  CommandConflict,
  ConfigInvalid,
  CrossSiteRefused,
  Forbidden,
  InvalidRequest,
  NotAvailable,
  NotFound,
  PluginUnavailable,
  ScaleOutOfRange,
  Unauthorized,
  Unprocessable,
} from "./problems.ts"
import {
  Agent,
  AgentList,
  AgentListQuery,
  AgentStatus,
  AlertList,
  AlertListQuery,
  CapabilityList,
  CrashList,
  CrashListQuery,
  CrashReport,
  EventsQuery,
  InvokeBody,
  InvokeResult,
  LogLine,
  LogQuery,
  PluginList,
  ReloadResult,
  type Role,
  ScaleBody,
  Service,
  ServiceHealth,
  ServiceList,
  SessionInfo,
  ShutdownAccepted,
  StartBody,
  StopBody,
  StreamEvent,
  SystemStatus,
  UnitLog,
  UnitMetrics,
} from "./schemas.ts"

/** The role an endpoint needs (endpoint annotation; viewer when absent). */
export class RequiredRole extends Context.Reference<Role>("sam/api/RequiredRole", {
  defaultValue: () => "viewer",
}) {}

/**
 * Audit refused calls to the endpoint as `<METHOD> <path>` on the request's path rather than by
 * the endpoint's name (plugin routes, whose meaning only the plugin knows).
 */
export class AuditAsRequest extends Context.Reference<boolean>("sam/api/AuditAsRequest", {
  defaultValue: () => false,
}) {}

/**
 * The endpoint needs no credential from a loopback client when `monitoring.metrics.public` is
 * true (a local Prometheus scraping /metrics); everyone else authenticates as usual.
 */
export class PublicOnLoopback extends Context.Reference<boolean>("sam/api/PublicOnLoopback", {
  defaultValue: () => false,
}) {}

/** Who is calling, as the Authorization middleware established it. */
export class Principal extends Context.Service<Principal, { readonly name: string; readonly role: Role }>()(
  "sam/api/Principal",
) {}

/**
 * Authentication (a bearer token, or a browser session's cookie: middleware.ts) and the role
 * check of every endpoint.
 */
export class Authorization extends HttpApiMiddleware.Service<Authorization, { provides: Principal }>()(
  "sam/api/Authorization",
  {
    error: [Unauthorized, Forbidden, CrossSiteRefused],
    security: {
      bearer: HttpApiSecurity.bearer.pipe(
        HttpApiSecurity.annotate(
          OpenApi.Description,
          "A token from security.api_tokens, or the local admin token in <state_dir>/token when none is " +
            "configured. Roles: viewer (read), operator (lifecycle, invoke), admin (all). Browsers signed in " +
            "with the login link send a session cookie instead (docs/API.md).",
        ),
      ),
    },
  },
) {}

/** Turns request decoding failures into a 400 problem listing every issue. */
export class RequestValidation extends HttpApiMiddleware.Service<RequestValidation>()(
  "sam/api/RequestValidation",
  {
    error: InvalidRequest,
  },
) {}

const id = { id: Schema.String }
/** Lifecycle commands may come with no body at all. */
const optionalBody = <S extends Schema.Top>(schema: S) => [schema, Schema.Null] as const

const agentCommand = <const Name extends string, Body extends typeof StartBody | typeof StopBody>(
  name: Name,
  body: Body,
) =>
  HttpApiEndpoint.post(name, `/agents/:id/${name}`, {
    params: id,
    payload: optionalBody(body),
    success: Agent,
    error: [NotFound, CommandConflict, Unprocessable],
  }).annotate(RequiredRole, "operator")

const serviceCommand = <const Name extends string>(name: Name) =>
  HttpApiEndpoint.post(name, `/services/:id/${name}`, {
    params: id,
    payload: optionalBody(StopBody),
    success: Service,
    error: [NotFound, CommandConflict],
  }).annotate(RequiredRole, "operator")

export class AgentsGroup extends HttpApiGroup.make("agents")
  .add(HttpApiEndpoint.get("list", "/agents", { query: AgentListQuery, success: AgentList }))
  .add(HttpApiEndpoint.get("get", "/agents/:id", { params: id, success: Agent, error: NotFound }))
  .add(
    HttpApiEndpoint.get("status", "/agents/:id/status", {
      params: id,
      success: AgentStatus,
      error: NotFound,
    }),
  )
  .add(
    HttpApiEndpoint.get("metrics", "/agents/:id/metrics", {
      params: id,
      success: UnitMetrics,
      error: [NotFound, NotAvailable],
    }).annotate(
      OpenApi.Description,
      "The agent's recent history (~15 min at 5 s): CPU, memory and capability invocations per second",
    ),
  )
  .add(agentCommand("start", StartBody))
  .add(agentCommand("stop", StopBody))
  .add(agentCommand("restart", StopBody))
  .add(agentCommand("suspend", StopBody))
  .add(agentCommand("resume", StopBody))
  .annotate(OpenApi.Description, "Agents: list, status and lifecycle commands") {}

export class ServicesGroup extends HttpApiGroup.make("services")
  .add(HttpApiEndpoint.get("list", "/services", { success: ServiceList }))
  .add(HttpApiEndpoint.get("get", "/services/:id", { params: id, success: Service, error: NotFound }))
  .add(
    HttpApiEndpoint.get("health", "/services/:id/health", {
      params: id,
      success: ServiceHealth,
      error: NotFound,
    }),
  )
  .add(
    HttpApiEndpoint.get("metrics", "/services/:id/metrics", {
      params: id,
      success: UnitMetrics,
      error: [NotFound, NotAvailable],
    }).annotate(
      OpenApi.Description,
      "The service's recent history (~15 min at 5 s): CPU, memory and gateway requests per second",
    ),
  )
  .add(serviceCommand("start"))
  .add(serviceCommand("stop"))
  .add(serviceCommand("restart"))
  .add(serviceCommand("suspend"))
  .add(serviceCommand("resume"))
  .add(
    HttpApiEndpoint.post("scale", "/services/:id/scale", {
      params: id,
      payload: ScaleBody,
      success: Service,
      error: [NotFound, CommandConflict, ScaleOutOfRange],
    })
      .annotate(RequiredRole, "operator")
      .annotate(
        OpenApi.Description,
        "Run this many instances (0 to scaling.max_instances): new ones start, the highest-numbered " +
          "beyond the count are drained, stopped and released. Answers once the new instances are " +
          "starting or the removed ones stopped. An autoscaled service goes on from this count after " +
          "its cooldown, within min_instances..max_instances.",
      ),
  )
  .annotate(
    OpenApi.Description,
    "Services: list with the dependency graph, health, lifecycle commands and scaling",
  ) {}

export class SystemGroup extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("status", "/status", { success: SystemStatus }))
  .add(
    HttpApiEndpoint.get("events", "/events", {
      query: EventsQuery,
      headers: {
        "last-event-id": Schema.optionalKey(
          Schema.String.annotate({
            description: "Resume after this event id (sent by EventSource on reconnect)",
          }),
        ),
      },
      success: HttpApiSchema.StreamSse({ data: StreamEvent }),
    }).annotate(
      OpenApi.Description,
      "Server-Sent Events: a `snapshot` of every unit first, then every event as it happens; " +
        "comment lines (`: keep-alive`) as heartbeats.",
    ),
  )
  .add(
    HttpApiEndpoint.get("session", "/session", { success: SessionInfo }).annotate(
      OpenApi.Description,
      "Who the caller is: the name and role of its token or browser session (the dashboard shows " +
        "lifecycle controls to operators and admins only).",
    ),
  )
  .add(
    HttpApiEndpoint.delete("endSession", "/session", {
      success: HttpApiSchema.NoContent,
      error: [Unprocessable],
    }).annotate(
      OpenApi.Description,
      "Sign out: end the caller's browser session (any role). SAM forgets it, so its cookie no longer " +
        "authenticates even if replayed, and the answer (204) clears the cookie. A caller with a bearer " +
        "token and no session has nothing to end: 422 (a token stays valid until it is removed from " +
        "security.api_tokens).",
    ),
  )
  .add(
    HttpApiEndpoint.post("shutdown", "/shutdown", { success: ShutdownAccepted, error: [NotAvailable] })
      .annotate(RequiredRole, "admin")
      .annotate(
        OpenApi.Description,
        "Stop SAM as a whole, as SIGTERM does: every unit in reverse dependency order, then the API " +
          "and SAM itself (`sam shutdown`). Answers at once; SAM's pid is gone once it has stopped. " +
          "501 when SAM is embedded in a program (stop it from there).",
      ),
  )
  .annotate(
    OpenApi.Description,
    "SAM as a whole: status, the live event stream, who is calling, signing out, and stopping SAM",
  ) {}

const lastEventId = {
  "last-event-id": Schema.optionalKey(
    Schema.String.annotate({
      description: "Resume after this line (its seq; sent by EventSource on reconnect)",
    }),
  ),
}

const unitLog = <const Name extends string>(name: Name, path: `/${string}/:id/logs`) =>
  HttpApiEndpoint.get(name, path, {
    params: id,
    query: LogQuery,
    headers: lastEventId,
    success: [UnitLog, HttpApiSchema.StreamSse({ data: LogLine })],
    error: [NotFound, InvalidRequest],
  }).annotate(
    OpenApi.Description,
    "The unit's last lines of output (both streams, every instance), oldest first. With `follow=true` " +
      "or `Accept: text/event-stream`: Server-Sent Events, `line` events (id = seq) for the history, " +
      "then each new line as it comes, across restarts of the unit; `Last-Event-ID` resumes after a line.",
  )

export class LogsGroup extends HttpApiGroup.make("logs")
  .add(unitLog("service", "/services/:id/logs"))
  .add(unitLog("agent", "/agents/:id/logs"))
  .annotate(OpenApi.Description, "Units' output: captured, rotated files under <state_dir>/logs, and live") {}

export class CrashesGroup extends HttpApiGroup.make("crashes")
  .add(
    HttpApiEndpoint.get("list", "/crashes", {
      query: CrashListQuery,
      success: CrashList,
      error: [InvalidRequest, NotFound, NotAvailable],
    }),
  )
  .add(
    HttpApiEndpoint.get("get", "/crashes/:id", {
      params: { id: Schema.NumberFromString.check(Schema.isInt()) },
      success: CrashReport,
      error: [NotFound, NotAvailable],
    }),
  )
  .annotate(
    OpenApi.Description,
    "Crash reports: one per unexpected exit or kill for a limit, with the last lines and resources",
  ) {}

export class CapabilitiesGroup extends HttpApiGroup.make("capabilities")
  .add(
    HttpApiEndpoint.get("list", "/capabilities", { success: CapabilityList }).annotate(
      OpenApi.Description,
      "Every capability with its providers and their readiness, including those declared by configured " +
        "agents that are not running (then `available` is false).",
    ),
  )
  .add(
    HttpApiEndpoint.post("invoke", "/capabilities/:name/invoke", {
      params: { name: Schema.String },
      payload: InvokeBody,
      success: [InvokeResult, HttpApiSchema.StreamSse({ data: Schema.Unknown })],
      error: [CapabilityNotFound, CapabilityBusy, CapabilityFailed, CapabilityUnavailable, CapabilityTimeout],
    })
      .annotate(RequiredRole, "operator")
      .annotate(
        OpenApi.Description,
        "Invoke a capability on the agent SAM routes it to. With `Accept: text/event-stream` the result " +
          "streams as `chunk` events, then `done` ({agent, duration_ms}) or `error` (a problem).",
      ),
  )
  .annotate(OpenApi.Description, "Capabilities offered by agents") {}

/**
 * One endpoint per method a plugin route may have, all on `/plugins/:name/*`: the plugin host's
 * current route table decides what answers (so a hot reload needs no new routes here).
 * `GET /plugins/:name` itself is the plugin's status.
 */
const pluginRoute = <const Method extends "GET" | "POST" | "PUT" | "PATCH" | "DELETE">(method: Method) =>
  HttpApiEndpoint.make(method)(`route${method}`, "/plugins/:name/*", {
    params: { name: Schema.String },
    success: Schema.Unknown,
    error: [NotFound, PluginUnavailable],
  })
    .annotate(RequiredRole, method === "GET" ? "viewer" : "admin")
    .annotate(AuditAsRequest, true)
    .annotate(
      OpenApi.Description,
      method === "GET"
        ? "A plugin's own GET routes below /api/plugins/{name}/ (`ctx.api.get`); /api/plugins/{name} " +
            "is the plugin's status"
        : `A plugin's own ${method} routes below /api/plugins/{name}/ (admin)`,
    )

export class PluginsGroup extends HttpApiGroup.make("plugins")
  .add(HttpApiEndpoint.get("list", "/plugins", { success: PluginList }))
  .add(
    HttpApiEndpoint.post("reload", "/config/reload", {
      success: ReloadResult,
      error: [NotAvailable, ConfigInvalid],
    })
      .annotate(RequiredRole, "admin")
      .annotate(OpenApi.Description, "Reload the configuration files and apply the difference"),
  )
  .add(pluginRoute("GET"))
  .add(pluginRoute("POST"))
  .add(pluginRoute("PUT"))
  .add(pluginRoute("PATCH"))
  .add(pluginRoute("DELETE"))
  .annotate(
    OpenApi.Description,
    "Plugins, their routes and configuration reload (served by the plugin host)",
  ) {}

export class AlertsGroup extends HttpApiGroup.make("alerts")
  .add(
    HttpApiEndpoint.get("list", "/alerts", {
      query: AlertListQuery,
      success: AlertList,
      error: [InvalidRequest, NotAvailable],
    }).annotate(
      OpenApi.Description,
      "Alerts firing and pending now, and recent ones from the alert history (monitoring.alerts rules)",
    ),
  )
  .annotate(OpenApi.Description, "Alerts of the rules in monitoring.alerts") {}

/** The Prometheus text format SAM serves (prom-client's registry content type). */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

/** Where the metrics endpoint is routed; the server maps monitoring.metrics.path onto it. */

export class MetricsGroup extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("scrape", metricsRoute, {
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: prometheusContentType })),
      error: NotFound,
    })
      .annotate(PublicOnLoopback, true)
      .annotate(
        OpenApi.Description,
        "Prometheus metrics (text format 0.0.4) at monitoring.metrics.path (default /metrics): units, " +
          "health checks, gateway, capabilities, alerts, the watchdog and SAM's own process. Viewer role; " +
          "no credential from loopback with monitoring.metrics.public: true.",
      ),
  )
  .annotate(OpenApi.Description, "Prometheus metrics (outside /api)") {}

const strict = { errors: "all", onExcessProperty: "error" } as const

export class ControlApi extends HttpApi.make("sam")
  .add(AgentsGroup)
  .add(ServicesGroup)
  .add(SystemGroup)
  .add(LogsGroup)
  .add(CrashesGroup)
  .add(CapabilitiesGroup)
  .add(PluginsGroup)
  .add(AlertsGroup)
  .prefix("/api")
  .add(MetricsGroup)
  .middleware(RequestValidation)
  .middleware(Authorization)
  .annotate(HttpApi.PayloadParseOptions, strict)
  .annotate(HttpApi.QueryParseOptions, strict)
  .annotate(HttpApi.ParamsParseOptions, { errors: "all" })
  .annotate(HttpApi.HeadersParseOptions, {})
  .annotateMerge(
    OpenApi.annotations({
      title: "SAM control API",
      version: "1",
      description:
        "Supervise SAM's agents and services. Errors are application/problem+json (RFC 9457). " +
        "See docs/API.md for authentication, the event stream and examples.",
    }),
  ) {}

/** The OpenAPI 3.1 document of the control API. */
export const openApiDocument = () => OpenApi.fromApi(ControlApi)

export { metricsRoute, openApiPath }
