// Composition of SAM with its plugin host and config hot reload: the host loads the config's
// `plugins:` and the project's plugins/ folder (before units start, so plugin health-check kinds
// exist), and the reloader applies config edits as a diff and reconciles the plugin list.
import type { LoadConfigOptions, LoadedConfig } from "../config/load.ts"
import type { SamConfig } from "../config/schema.ts"
import { PluginHost } from "../plugins/index.ts"
import { type ConfigReloader, configReloaderFor } from "../runtime/configReload.ts"
import type { Sam } from "../runtime/sam.ts"

export interface AttachedPlugins {
  readonly plugins: PluginHost
  /** Undefined for inline configs: there is no file to reload. */
  readonly reloader: ConfigReloader<SamConfig> | undefined
}

export const attachPlugins = async (
  sam: Sam,
  loaded: LoadedConfig,
  loadOptions: Omit<LoadConfigOptions, "configPath"> = {},
): Promise<AttachedPlugins> => {
  const plugins = new PluginHost({ sam, baseDir: loaded.baseDir, entries: loaded.config.plugins })
  const reloader =
    loaded.files.length === 0 ? undefined : configReloaderFor(sam, loaded, { plugins, loadOptions })
  if (reloader) {
    plugins.reloadConfig = () => reloader.reload()
    sam.addFinalizer(() => reloader.stop())
  }
  await plugins.start()
  return { plugins, reloader }
}
