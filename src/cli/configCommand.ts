// `sam config print` (described in commands.ts): the merged configuration with the layer each
// value came from, secrets masked, and the plugins SAM loads from the project's plugins/ folder.

import type { LoadedConfig } from "../config/load.ts"
import type { AutoLoadedPlugin } from "../config/printConfig.ts"
import { type CommandRun, EXIT_OK, EXIT_USAGE } from "./command.ts"
import { loadFromOptions, printWarnings } from "./configOptions.ts"

/** Plugins the plugin host finds in <config dir>/plugins/ that no `plugins:` entry names. */
const autoLoadedPlugins = async (loaded: LoadedConfig): Promise<AutoLoadedPlugin[]> => {
  const { defaultPluginsDir, resolvePluginSources } = await import("../plugins/pluginSources.ts")
  const { sources } = resolvePluginSources({
    entries: loaded.config.plugins,
    baseDir: loaded.baseDir,
    pluginsDir: defaultPluginsDir(loaded.baseDir),
  })
  return sources.filter((s) => s.origin === "folder").map((s) => ({ label: s.label, entry: s.entry }))
}

export const runPrint: CommandRun = async ({ values, io }) => {
  const loaded = await loadFromOptions(io, values, { secrets: "lenient" })
  if (loaded === undefined) return EXIT_USAGE
  const { configToJson, configToYaml } = await import("../config/printConfig.ts")
  io.stdout(
    values.json === true ? configToJson(loaded) : configToYaml(loaded, await autoLoadedPlugins(loaded)),
  )
  printWarnings(io, loaded.warnings)
  return EXIT_OK
}
