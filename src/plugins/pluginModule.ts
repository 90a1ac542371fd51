// Importing a plugin module and checking what it exports. Every load gets a fresh module
// instance through a cache-busting query (`?sam-reload=<token>`); a resolve hook carries the
// query to the plugin's own relative imports so a helper file edit is picked up too. ESM never
// evicts modules, so each reload keeps one instance alive: see docs/PLUGINS.md.
// A namespace, not a named import: one Node lacks would fail the whole graph at link time (src/nodeVersion.ts).
import * as nodeModule from "node:module"
import { dirname } from "node:path"
import { pathToFileURL } from "node:url"
import { Schema } from "effect"
import { errorPosition, findSyntaxError } from "../config/syntaxCheck.ts"
import { commonJsHint } from "../runtime/moduleFormatHint.ts"
import { PLUGIN_API_VERSION, SUPPORTED_PLUGIN_API_VERSIONS } from "./definePlugin.ts"
import { describe, type PluginError, pluginError } from "./errors.ts"
import type { PluginDefinition } from "./types.ts"

const QUERY = "sam-reload"

/** Token → directory URL (with trailing "/") whose files share the entry's reload token. */
const roots = new Map<string, string>()
let hooked = false

const installResolveHook = (): void => {
  if (hooked || typeof nodeModule.registerHooks !== "function") return
  hooked = true
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context)
      const parent = context.parentURL
      if (parent === undefined || !parent.includes(`${QUERY}=`)) return resolved
      const token = new URL(parent).searchParams.get(QUERY)
      const root = token === null ? undefined : roots.get(token)
      const url = resolved.url
      if (root === undefined || !url.startsWith(root) || url.includes("?") || url.includes("/node_modules/"))
        return resolved
      return { ...resolved, url: `${url}?${QUERY}=${token}` }
    },
  })
}

let loads = 0

/** Import `entry` (an absolute file path) as a new module instance. */
export const importFresh = async (entry: string): Promise<unknown> => {
  installResolveHook()
  const token = String(++loads)
  roots.set(token, pathToFileURL(`${dirname(entry)}/`).href)
  return import(`${pathToFileURL(entry).href}?${QUERY}=${token}`)
}

const validName = /^[a-z0-9][a-z0-9._-]*$/i

/** The plugin definition a module namespace exports, or why it is not a usable plugin. */
export const readDefinition = (namespace: unknown, source: string): PluginDefinition | PluginError => {
  const exported = (namespace as { default?: unknown } | null)?.default
  const invalid = (what: string) =>
    pluginError(
      "PLUGIN_INVALID",
      source,
      `${source} is not a SAM plugin: ${what}; export default definePlugin({ name, version, setup })`,
    )
  if (typeof exported !== "object" || exported === null) return invalid("it has no default export object")
  const d = exported as Record<string, unknown>
  if (typeof d.name !== "string" || !validName.test(d.name))
    return invalid(
      `"name" must be a string of letters, digits, ".", "_" or "-" (got ${JSON.stringify(d.name)})`,
    )
  const name = d.name
  if (typeof d.version !== "string") return invalid(`plugin "${name}" has no "version" string`)
  if (typeof d.setup !== "function") return invalid(`plugin "${name}" has no setup(ctx) function`)
  const apiVersion = d.apiVersion ?? PLUGIN_API_VERSION
  if (typeof apiVersion !== "number" || !SUPPORTED_PLUGIN_API_VERSIONS.includes(apiVersion))
    return pluginError(
      "PLUGIN_INCOMPATIBLE",
      name,
      `plugin "${name}" ${d.version} targets SAM plugin API version ${String(apiVersion)}, but this SAM supports ` +
        `version ${SUPPORTED_PLUGIN_API_VERSIONS.join(", ")}; use a release of the plugin built for API ` +
        `${PLUGIN_API_VERSION} or upgrade SAM`,
    )
  if (
    d.dependsOn !== undefined &&
    !(Array.isArray(d.dependsOn) && d.dependsOn.every((x) => typeof x === "string"))
  )
    return invalid(`plugin "${name}": "dependsOn" must be a list of plugin names`)
  if (d.configSchema !== undefined && !Schema.isSchema(d.configSchema))
    return invalid(`plugin "${name}": "configSchema" must be an Effect Schema`)
  return d as unknown as PluginDefinition
}

/**
 * What to do about an import failure Node explains only on SAM's stderr: a `.ts` or `.js` plugin
 * in a package without `"type": "module"` is loaded as CommonJS, and its `import` fails.
 */
const importHint = (entry: string, error: unknown): string =>
  commonJsHint(describe(error), entry, ", then restart SAM: Node keeps a package.json it has read")

/** The entry as the operator knows it: `plugins/kit/index.mjs` for source `plugins/kit`. */
const shownPath = (entry: string, source: string): string => {
  const at = entry.lastIndexOf(`/${source.replace(/^\.\//, "")}`)
  return at >= 0 ? entry.slice(at + 1) : entry
}

/**
 * Where in the entry an import failed, as config files are told (`file:line:column`): a syntax
 * error located by Node in a process of its own (an imported module's carries no position), a
 * throw at load time by its stack frame in the entry.
 */
const importFailure = async (entry: string, source: string, error: unknown): Promise<string> => {
  const file = shownPath(entry, source)
  // Asked whatever the error says: a loader (a test runner's) may word a syntax error its own way.
  const syntax = await findSyntaxError(entry)
  if (syntax !== undefined) return `${file}:${syntax.line}:${syntax.column} syntax error: ${syntax.message}`
  const position = errorPosition(error, pathToFileURL(entry).href)
  const where = position === undefined ? "" : `${file}:${position.line}:${position.column} `
  return `${where}${describe(error)}${importHint(entry, error)}`
}

/** Import and validate; never throws. */
export const loadDefinition = async (
  entry: string,
  source: string,
): Promise<PluginDefinition | PluginError> => {
  let module: unknown
  try {
    module = await importFresh(entry)
  } catch (error) {
    return pluginError(
      "PLUGIN_IMPORT_FAILED",
      source,
      `could not import ${source}: ${await importFailure(entry, source, error)}`,
      error,
    )
  }
  try {
    return readDefinition(module, source)
  } catch (error) {
    return pluginError(
      "PLUGIN_IMPORT_FAILED",
      source,
      `could not import ${source}: ${describe(error)}`,
      error,
    )
  }
}
