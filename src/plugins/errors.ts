// Why a plugin did not load, reload or keep running. Each error names the plugin and says what
// to do; `code` is stable (for scripts and docs), `message` is for people.
import { Data, Predicate } from "effect"

export type PluginErrorCode =
  | "PLUGIN_NOT_FOUND"
  | "PLUGIN_IMPORT_FAILED"
  | "PLUGIN_INVALID"
  | "PLUGIN_INCOMPATIBLE"
  | "PLUGIN_CONFIG_INVALID"
  | "PLUGIN_DEPENDENCY"
  | "PLUGIN_CONFLICT"
  | "PLUGIN_SETUP_FAILED"
  | "PLUGIN_SETUP_TIMEOUT"
  | "PLUGIN_HOOK_FAILED"
  | "PLUGIN_CLOSED"
  | "PLUGIN_RELOAD_LIMIT"

export class PluginError extends Data.TaggedError("PluginError")<{
  readonly code: PluginErrorCode
  readonly plugin: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** Matched by tag: a value from another copy of this module is a PluginError too. */
export const isPluginError = (u: unknown): u is PluginError => Predicate.isTagged(u, "PluginError")

export const pluginError = (
  code: PluginErrorCode,
  plugin: string,
  message: string,
  cause?: unknown,
): PluginError =>
  new PluginError(cause === undefined ? { code, plugin, message } : { code, plugin, message, cause })

/** The message of anything thrown. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
