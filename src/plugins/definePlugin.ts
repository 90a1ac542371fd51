// definePlugin: an identity function whose only job is types (like Vite's defineConfig), so a
// plugin written as a plain object default export works the same and need not import SAM.
import type { PluginDefinition } from "./types.ts"

/** The plugin API version this SAM implements. */
export const PLUGIN_API_VERSION = 1

/** Plugin API versions this SAM can load. */
export const SUPPORTED_PLUGIN_API_VERSIONS: ReadonlyArray<number> = [1]

/**
 * Declare a plugin; export it as the module's default export.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { definePlugin } from "sam"
 *
 * export default definePlugin({
 *   name: "greeter",
 *   version: "1.0.0",
 *   apiVersion: 1,
 *   configSchema: Schema.Struct({ greeting: Schema.String }),
 *   setup(ctx) {
 *     ctx.capabilities.register("greeting", (input) => `${ctx.config.greeting}, ${String(input)}`)
 *   },
 * })
 * ```
 * @category plugins
 */
export const definePlugin = <Config = unknown>(
  definition: PluginDefinition<Config>,
): PluginDefinition<Config> => definition
