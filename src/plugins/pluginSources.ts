// Where plugins come from: the config's `plugins:` entries (a path, a package name, or an
// object with either) and the project's `plugins/` folder (one file, or one folder with an
// index, per plugin). A config entry for a folder plugin wins (its `config`, its `enabled`).
import { existsSync, readdirSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { basename, extname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, type PluginError, pluginError } from "./errors.ts"

/** One `plugins:` entry as the config loader decodes it. */
export interface PluginEntry {
  readonly path?: string
  readonly package?: string
  readonly enabled?: boolean
  readonly config?: unknown
}

export interface PluginSource {
  /** What the user wrote, or `plugins/<file>` for folder plugins. */
  readonly label: string
  /** Absolute path of the module imported. */
  readonly entry: string
  /** Files or folders whose change reloads the plugin (none for packages). */
  readonly watch: ReadonlyArray<string>
  readonly config: unknown
  readonly enabled: boolean
  readonly origin: "config" | "folder"
  /** Where its config is written (`plugins[0].config`), for a config entry. */
  readonly configAt?: ReadonlyArray<string | number>
}

/** The project's plugins/ folder: beside the config file (its base dir). */
export const defaultPluginsDir = (baseDir: string): string => join(baseDir, "plugins")

const extensions = [".ts", ".mts", ".js", ".mjs"]
const indexNames = extensions.map((e) => `index${e}`)

const isModuleFile = (name: string): boolean =>
  extensions.includes(extname(name)) && !name.endsWith(".d.ts") && !/\.(test|spec)\.[mc]?[jt]s$/.test(name)

/** The entry of a plugin folder, or undefined when it has no index module. */
const folderEntry = (dir: string): string | undefined =>
  indexNames.map((n) => join(dir, n)).find((f) => existsSync(f))

/** A path plugin: a module file, or a folder with an index module; watched whole. */
const resolvePath = (path: string): { entry: string; watch: string } | string => {
  if (!existsSync(path)) {
    const withExt = extensions.map((e) => `${path}${e}`).find((f) => existsSync(f))
    return withExt ? { entry: withExt, watch: withExt } : `no file or folder at ${path}`
  }
  if (statSync(path).isDirectory()) {
    const entry = folderEntry(path)
    return entry ? { entry, watch: path } : `folder ${path} has no ${indexNames.join(" / ")}`
  }
  return { entry: path, watch: path }
}

const resolvePackage = (name: string, baseDir: string): string => {
  try {
    return createRequire(join(baseDir, "noop.js")).resolve(name)
  } catch {
    // ESM-only packages (an "import" condition and no "require"/"default") or SAM's own exports.
    return fileURLToPath(import.meta.resolve(name))
  }
}

/** Plugin modules found in `dir` (sorted by name). */
export const discoverFolder = (dir: string): PluginSource[] => {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return []
  const sources: PluginSource[] = []
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".") || name.startsWith("_")) continue
    const full = join(dir, name)
    const stat = statSync(full)
    const found = stat.isDirectory()
      ? (() => {
          const entry = folderEntry(full)
          return entry ? { entry, watch: full } : undefined
        })()
      : isModuleFile(name)
        ? { entry: full, watch: full }
        : undefined
    if (found)
      sources.push({
        label: `${basename(dir)}/${name}`,
        ...found,
        watch: [found.watch],
        config: undefined,
        enabled: true,
        origin: "folder",
      })
  }
  return sources
}

export interface ResolvedSources {
  readonly sources: ReadonlyArray<PluginSource>
  readonly errors: ReadonlyArray<PluginError>
}

/**
 * Config entries (relative paths resolved from `baseDir`) then folder plugins not already
 * named by an entry. Disabled entries are returned too (the host reports them as stopped).
 */
export const resolvePluginSources = (options: {
  readonly entries: ReadonlyArray<PluginEntry>
  readonly baseDir: string
  readonly pluginsDir?: string
}): ResolvedSources => {
  const sources: PluginSource[] = []
  const errors: PluginError[] = []
  for (const [index, item] of options.entries.entries()) {
    const label = item.path ?? item.package ?? "(empty plugin entry)"
    const common = {
      label,
      config: item.config,
      enabled: item.enabled ?? true,
      origin: "config" as const,
      configAt: ["plugins", index, "config"],
    }
    if (item.path !== undefined) {
      const found = resolvePath(resolve(options.baseDir, item.path))
      if (typeof found === "string")
        errors.push(pluginError("PLUGIN_NOT_FOUND", label, `plugins[${index}].path: ${found}`))
      else sources.push({ ...common, entry: found.entry, watch: [found.watch] })
    } else if (item.package !== undefined) {
      try {
        sources.push({ ...common, entry: resolvePackage(item.package, options.baseDir), watch: [] })
      } catch (error) {
        errors.push(
          pluginError(
            "PLUGIN_NOT_FOUND",
            label,
            `plugins[${index}].package: plugin package "${item.package}" is not installed (from ${options.baseDir}): ${describe(error)}; run npm install ${item.package}`,
          ),
        )
      }
    } else
      errors.push(
        pluginError(
          "PLUGIN_NOT_FOUND",
          label,
          `plugins[${index}]: a plugins entry needs a path or a package`,
        ),
      )
  }
  const named = new Set(sources.map((s) => s.entry))
  if (options.pluginsDir !== undefined)
    for (const found of discoverFolder(options.pluginsDir)) if (!named.has(found.entry)) sources.push(found)
  return { sources, errors }
}
