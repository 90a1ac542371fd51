// Where a SAM that is not running kept its state (logs, crash reports): SAM_STATE_DIR, else the
// config's runtime.state_dir, else (the config does not load) the default beside the config
// file; and the units that config names. For the commands that read a stopped SAM's files.
import { join, resolve } from "node:path"
import { DEFAULT_STATE_DIR } from "../config/constants.ts"
import { defaultConfigFile } from "../config/defaultConfigFile.ts"
import { type OptionValues, stringOption } from "./command.ts"
import type { CliIo } from "./io.ts"

export const lastRun = async (
  io: CliIo,
  values: OptionValues,
): Promise<{ stateDir: string; units: string[] }> => {
  const stateDirEnv = io.env.SAM_STATE_DIR
  if (stateDirEnv !== undefined && stateDirEnv !== "")
    return { stateDir: resolve(io.cwd, stateDirEnv), units: [] }
  const configPath = stringOption(values, "config") ?? defaultConfigFile(io.cwd)
  try {
    const { loadConfig } = await import("../config/load.ts")
    const { config } = await loadConfig({ cwd: io.cwd, env: io.env, secrets: "lenient", configPath })
    return {
      stateDir: config.runtime.state_dir,
      units: [...Object.keys(config.services), ...Object.keys(config.agents)],
    }
  } catch {
    return { stateDir: join(resolve(io.cwd, configPath, ".."), DEFAULT_STATE_DIR), units: [] }
  }
}
