// Build a Sam from configuration: a config file path, or a config already loaded by
// loadConfig. This is the entry point for the daemon and for Node apps embedding SAM.
import { join, resolve } from "node:path"
import { type LoadedConfig, loadConfig, validateConfigObject } from "../config/load.ts"
import type { SamConfig, SamConfigInput } from "../config/schema.ts"
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
 * An inline config object (embedding): validated like a file, with relative paths taken from
 * `cwd`. Secret references are not resolved here: pass real values, or load a file instead.
 */
const loadInline = (input: SamConfigInput, cwd: string): LoadedConfig => {
  const decoded = validateConfigObject(input, "<inline config>")
  const stateDir = resolve(cwd, decoded.runtime.state_dir)
  const config: SamConfig = {
    ...decoded,
    runtime: { ...decoded.runtime, state_dir: stateDir },
    agents: Object.fromEntries(
      Object.entries(decoded.agents).map(([id, a]) => [
        id,
        {
          ...a,
          path: resolve(cwd, a.path),
          data_dir: resolve(cwd, a.data_dir ?? join(stateDir, "agents", id, "data")),
        },
      ]),
    ),
  }
  return {
    config,
    configPath: "<inline config>",
    baseDir: cwd,
    files: [],
    origins: new Map(),
    secretValues: new Set(),
    warnings: [],
  }
}

/**
 * Create SAM from a config file (`"./sam.config.ts"`), a config object, or a LoadedConfig.
 * Nothing starts until `await sam.start()`; `await sam.stop()` stops every unit it started.
 */
export const createSam = async (
  input?: string | LoadedConfig | SamConfigInput,
  options: CreateSamOptions = {},
): Promise<ConfiguredSam> => {
  const loaded = isLoaded(input)
    ? input
    : typeof input === "object"
      ? loadInline(input, options.cwd ?? process.cwd())
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
