// Composition of SAM with its plugin host and config hot reload: the host loads the config's
// `plugins:` and the project's plugins/ folder (before units start, so plugin health-check kinds
// exist); the reloader (with or without plugins) applies config edits as a diff, SAM's own
// settings (the log level) and the plugin list.
import type { LoadConfigOptions, LoadedConfig } from "../config/load.ts"
import type { SamConfig } from "../config/schema.ts"
import { PluginHost } from "../plugins/index.ts"
import { type ConfigReloader, configReloaderFor } from "../runtime/configReload.ts"
import type { Sam } from "../runtime/sam.ts"

export const attachPlugins = async (
  sam: Sam,
  loaded: LoadedConfig,
  options: {
    readonly loadOptions?: Omit<LoadConfigOptions, "configPath">
    readonly plugins: boolean
    readonly onApplied?: (config: SamConfig) => void
  },
): Promise<{
  readonly plugins: PluginHost | undefined
  readonly reloader: ConfigReloader<SamConfig> | undefined
}> => {
  const plugins = options.plugins
    ? new PluginHost({ sam, baseDir: loaded.baseDir, entries: loaded.config.plugins })
    : undefined
  const reloader =
    loaded.files.length === 0
      ? undefined
      : configReloaderFor(sam, loaded, {
          ...(plugins === undefined ? {} : { plugins }),
          ...(options.loadOptions === undefined ? {} : { loadOptions: options.loadOptions }),
          ...(options.onApplied === undefined ? {} : { onApplied: options.onApplied }),
        })
  if (reloader) {
    if (plugins) plugins.reloadConfig = () => reloader.reload()
    sam.addFinalizer(() => reloader.stop())
  }
  await plugins?.start()
  return { plugins, reloader }
}
