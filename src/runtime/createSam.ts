// Build a Sam from configuration: a config file path, or a config already loaded by
// loadConfig. This is the entry point for the daemon and for Node apps embedding SAM.
import { join } from "node:path"
import { type LoadedConfig, loadConfig } from "../config/load.ts"
import { unitSpecsFromConfig } from "./fromConfig.ts"
import { createLogger, type Logger, logEvents } from "./logger.ts"
import { Sam } from "./sam.ts"

export interface CreateSamOptions {
  /** Where a relative config path is resolved, and the default config is looked for. */
  readonly cwd?: string
  /** Environment for the `SAM__` layer and `${env.X}` references (default process.env). */
  readonly env?: Record<string, string | undefined>
  readonly startTimeoutMs?: number
  /** Write SAM's JSON log to <state_dir>/sam.log (default true). */
  readonly logFile?: boolean
}

export interface ConfiguredSam extends Sam {
  readonly loaded: LoadedConfig
  readonly logger: Logger | undefined
}

const isLoaded = (input: unknown): input is LoadedConfig =>
  typeof input === "object" && input !== null && "config" in input && "configPath" in input

/**
 * Create SAM from a config file (`"./sam.config.ts"`) or a LoadedConfig.
 * Nothing starts until `await sam.start()`; `await sam.stop()` stops every unit it started.
 */
export const createSam = async (
  input?: string | LoadedConfig,
  options: CreateSamOptions = {},
): Promise<ConfiguredSam> => {
  const loaded = isLoaded(input)
    ? input
    : await loadConfig({
        ...(input === undefined ? {} : { configPath: input }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: options.env }),
      })
  const { config } = loaded
  const { units, groups } = unitSpecsFromConfig(config, loaded.baseDir)
  const sam = new Sam({
    units,
    groups,
    maxLogLines: config.monitoring.logs.max_lines_per_unit,
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  }) as Sam & { loaded: LoadedConfig; logger: Logger | undefined }
  sam.loaded = loaded
  sam.logger = undefined
  if (options.logFile !== false) {
    const logger = createLogger(config.runtime.state_dir, config.runtime.log_level)
    sam.logger = logger
    const off = logEvents(sam.bus, logger)
    sam.addFinalizer(() => {
      off()
      logger.flush()
    })
  }
  return sam
}

export const stateFile = (loaded: LoadedConfig, name: string): string =>
  join(loaded.config.runtime.state_dir, name)
