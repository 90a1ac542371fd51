// The plugin API as types: what a plugin module exports (PluginDefinition) and what its setup
// receives (PluginContext). definePlugin.ts, pluginContext.ts and pluginHost.ts implement it.
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Schema, Scope } from "effect"
import type { PluginStatusName } from "../actors/pluginTypes.ts"
import type {
  InvokeContext,
  InvokeOptions,
  InvokeOutput,
  InvokeResult,
} from "../runtime/capabilities/capability.ts"
import type { SamEvent } from "../runtime/eventBus.ts"
import type { ProbeFn } from "../runtime/health/probe.ts"
import type { SamStatus } from "../runtime/sam.ts"
import type { AlertSink, LogSink, MetricSink } from "./diagnostics.ts"
import type { GatewayMiddleware, GatewayRoute } from "./gatewayRegistry.ts"

/** What a plugin module default-exports (through `definePlugin`, or as a plain object). */
export interface PluginDefinition<Config = unknown> {
  /** Unique among loaded plugins; also its control-API prefix `/api/plugins/<name>/`. */
  readonly name: string
  readonly version: string
  /** The SAM plugin API version the plugin targets (default 1). */
  readonly apiVersion?: number
  readonly description?: string
  /** Plugins that must be running before this one's setup runs. */
  readonly dependsOn?: ReadonlyArray<string>
  /** Validates the `config` of the plugin's entry in the SAM config; setup sees the decoded value. */
  readonly configSchema?: Schema.Decoder<Config>
  /**
   * Registers what the plugin offers. Everything registered through `ctx` is owned by the
   * plugin's scope and removed when the plugin is unloaded or replaced by a new version.
   */
  readonly setup: (ctx: PluginContext<Config>) => void | Promise<void>
}

export type { PluginStatusName }

/** One plugin as `GET /api/plugins` reports it. */
export interface PluginStatus {
  readonly name: string
  readonly version: string
  readonly status: PluginStatusName
  /** Why it failed, or why its last reload was refused while the old version keeps serving. */
  readonly error?: string
  readonly source: string
  readonly reloads: number
  readonly dependsOn: ReadonlyArray<string>
}

export type Unregister = () => void

export type PluginCapabilityHandler = (
  input: unknown,
  call: InvokeContext,
) => InvokeOutput | Promise<InvokeOutput>

export interface CapabilityOptions {
  /** Concurrent invocations this plugin serves; more queue in the router. */
  readonly concurrency?: number
  /** False while calls must not be routed here. */
  readonly available?: () => boolean
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

export interface PluginRequest {
  readonly method: string
  /** Path below `/api/plugins/<name>`, starting with "/". */
  readonly path: string
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly headers: IncomingMessage["headers"]
  /** Parsed JSON for `application/json`, the text otherwise, undefined when empty. */
  readonly body: unknown
  /** Escape hatch for streaming responses: write to `res` and SAM writes nothing. */
  readonly res: ServerResponse
}

/**
 * A route handler returns the JSON body (200), `undefined` (204) or `reply(status, body)`.
 * A thrown error answers 500 and does not fail the plugin.
 */
export type PluginRouteHandler = (request: PluginRequest) => unknown

export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** What `setup(ctx)` receives. Every `register`-like call returns its own undo function. */
export interface PluginContext<Config = unknown> {
  readonly name: string
  readonly version: string
  /** The plugin's config, decoded by its `configSchema` (raw, or `{}`, without one). */
  readonly config: Config
  readonly log: PluginLogger
  /** Aborted when the plugin's scope closes (unload, replacement, failure, setup timeout). */
  readonly signal: AbortSignal
  /** The Effect scope owning everything the plugin registers; add finalizers from Effect code. */
  readonly scope: Scope.Scope

  readonly capabilities: {
    /** Offer `capability` (for example `"text_statistics"`); SAM routes invocations here. */
    register(capability: string, handler: PluginCapabilityHandler, options?: CapabilityOptions): Unregister
  }
  readonly healthChecks: {
    /** A health check kind units can use as `health_check.type`. */
    register(kind: string, check: ProbeFn): Unregister
  }
  readonly gateway: {
    /** Proxy a path prefix to a target URL, or serve it with a handler (used by the gateway). */
    route(route: GatewayRoute): Unregister
    /** Named gateway hooks (`onRequest`, `onResponse`). */
    middleware(hooks: GatewayMiddleware): Unregister
  }
  readonly diagnostics: {
    metrics(sink: MetricSink): Unregister
    logs(sink: LogSink): Unregister
    alerts(sink: AlertSink): Unregister
  }
  /** Control-API routes under `/api/plugins/<name>`; `path` may use `:param` segments. */
  readonly api: {
    route(method: HttpMethod, path: string, handler: PluginRouteHandler): Unregister
    get(path: string, handler: PluginRouteHandler): Unregister
    post(path: string, handler: PluginRouteHandler): Unregister
  }
  readonly events: {
    /** Every bus event (lifecycle, health, logs, supervisor, other plugins' events). */
    subscribe(listener: (event: SamEvent) => void): Unregister
    /** Publish `{ type: "<plugin name>.<what>", ... }`; the bus adds `plugin`, `id` and `at`. */
    publish(event: { readonly type: string; readonly [key: string]: unknown }): void
  }
  /** Timers cleared when the scope closes; a throwing callback fails the plugin. */
  readonly timers: {
    setInterval(callback: () => unknown, ms: number): Unregister
    setTimeout(callback: () => unknown, ms: number): Unregister
  }
  /** `fetch` whose sockets and pending requests belong to the plugin's scope. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>
  /** Invoke a capability (offered by agents or plugins). */
  invoke(capability: string, input: unknown, options?: InvokeOptions): Promise<InvokeResult>
  /** SAM's status: units, states, PIDs. */
  status(): SamStatus
  /** Run `cleanup` when the scope closes (last registered runs first). */
  onCleanup(cleanup: () => void | Promise<void>): void
}
