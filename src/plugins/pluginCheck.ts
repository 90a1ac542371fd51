// What `sam validate` knows of the plugins `sam start` would load, without setting any up: each
// enabled plugin is found, imported (its module's top level runs, as at start; its setup does
// not), read as a plugin and its config decoded by its schema; plugin dependencies are ordered.
// Each problem is worded as the plugin host reports it at start.
import { isPluginError } from "./errors.ts"
import { loadDefinition } from "./pluginModule.ts"
import { orderPlugins } from "./pluginOrder.ts"
import { decodeConfig } from "./pluginSetup.ts"
import { defaultPluginsDir, type PluginEntry, resolvePluginSources } from "./pluginSources.ts"

export interface PluginCheck {
  /** Names of the plugins that would load. */
  readonly loadable: ReadonlyArray<string>
  readonly problems: ReadonlyArray<string>
}

/** The config's entries (relative to `baseDir`) and the plugins/ folder beside it. */
export const checkPlugins = async (options: {
  readonly entries: ReadonlyArray<PluginEntry>
  readonly baseDir: string
}): Promise<PluginCheck> => {
  const { sources, errors } = resolvePluginSources({
    ...options,
    pluginsDir: defaultPluginsDir(options.baseDir),
  })
  const problems = errors.map((e) => e.message)
  const found: Array<{ name: string; dependsOn: ReadonlyArray<string> }> = []
  const failed = new Set<string>()
  for (const source of sources) {
    if (!source.enabled) continue
    const definition = await loadDefinition(source.entry, source.label)
    if (isPluginError(definition)) {
      problems.push(definition.message)
      continue
    }
    found.push({ name: definition.name, dependsOn: definition.dependsOn ?? [] })
    const config = decodeConfig(definition, source.config, source.configAt)
    if (isPluginError(config)) {
      problems.push(config.message)
      failed.add(definition.name)
    }
  }
  const { order, blocked } = orderPlugins(found)
  for (const [name, why] of blocked) problems.push(`plugin "${name}" ${why}`)
  // In dependency order, so a failure carries on down a chain of dependents.
  for (const name of order) {
    if (failed.has(name)) continue
    const dep = found.find((p) => p.name === name)?.dependsOn.find((d) => failed.has(d))
    if (dep === undefined) continue
    problems.push(`plugin "${name}" depends on "${dep}", which would not load`)
    failed.add(name)
  }
  return { loadable: order.filter((name) => !failed.has(name)), problems }
}
