// The plugin API (api.ts, what plugin authors import as `sam/plugin`) plus what SAM's
// composition root uses: PluginHost, GatewayRegistry, Diagnostics, PluginError.
export * from "./api.ts"
export { Diagnostics } from "./diagnostics.ts"
export { PluginError } from "./errors.ts"
export { GatewayConflict, GatewayRegistry } from "./gatewayRegistry.ts"
export { PluginHost, type PluginHostOptions, type ReloadOutcome } from "./pluginHost.ts"
