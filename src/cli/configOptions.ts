// Loading shared by the commands that read the config (start, validate, config print, secrets):
// the config from --config/--set (options.ts), and printing a ConfigError the same way everywhere.

import { ConfigError } from "../config/errors.ts"
import type { LoadConfigOptions, LoadedConfig } from "../config/load.ts"
import { listOption, type OptionValues, stringOption } from "./command.ts"
import type { CliIo } from "./io.ts"

/** Prints every problem of a ConfigError to stderr, then the warnings found with them. */
export const printConfigError = (io: CliIo, error: ConfigError): void => {
  const n = error.issues.length
  io.stderr(`sam: invalid configuration, ${n} problem${n === 1 ? "" : "s"}:\n${error.format()}\n`)
  printWarnings(io, error.warnings)
}

export const printWarnings = (io: CliIo, warnings: ReadonlyArray<string>): void => {
  for (const w of warnings) io.stderr(`warning: ${w}\n`)
}

/** loadConfig from the command's --config/--set; undefined (after printing) on a ConfigError. */
export const loadFromOptions = async (
  io: CliIo,
  values: OptionValues,
  extra: Partial<LoadConfigOptions> = {},
): Promise<LoadedConfig | undefined> => {
  const configPath = stringOption(values, "config")
  // Loaded on demand: `sam --help` and usage errors stay fast without the schema machinery.
  const { loadConfig } = await import("../config/load.ts")
  try {
    return await loadConfig({
      cwd: io.cwd,
      env: io.env,
      ...(configPath === undefined ? {} : { configPath }),
      ...extra,
      cliOverrides: [...listOption(values, "set"), ...(extra.cliOverrides ?? [])],
    })
  } catch (cause) {
    if (cause instanceof ConfigError) {
      printConfigError(io, cause)
      return undefined
    }
    throw cause
  }
}
