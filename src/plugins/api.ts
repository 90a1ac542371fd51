// What plugin authors import (`sam/plugin`): definePlugin, reply and the types a plugin sees.
// Kept free of the plugin host and SAM's runtime; src/plugins/index.ts adds the host for SAM.
export type { InvokeContext, InvokeOptions, InvokeResult } from "../runtime/capabilities/capability.ts"
export type { SamEvent } from "../runtime/eventBus.ts"
export type { ProbeFn, ProbeResult, ProbeTarget } from "../runtime/health/probe.ts"
export type { ProbeSpec } from "../runtime/unitSpec.ts"
export { definePlugin, PLUGIN_API_VERSION, SUPPORTED_PLUGIN_API_VERSIONS } from "./definePlugin.ts"
export type { Alert, AlertSink, LogRecord, LogSink, MetricSample, MetricSink } from "./diagnostics.ts"
export type { PluginErrorCode } from "./errors.ts"
export type {
  GatewayHook,
  GatewayMiddleware,
  GatewayRequest,
  GatewayResponse,
  GatewayRoute,
} from "./gatewayRegistry.ts"
export type { PluginEntry } from "./pluginSources.ts"
export { type PluginReply, reply } from "./reply.ts"
export type {
  CapabilityOptions,
  HttpMethod,
  PluginCapabilityHandler,
  PluginContext,
  PluginDefinition,
  PluginLogger,
  PluginRequest,
  PluginRouteHandler,
  PluginStatus,
  PluginStatusName,
  Unregister,
} from "./types.ts"
