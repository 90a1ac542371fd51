// `sam start`: runs SAM in the foreground on a loaded config until SIGINT/SIGTERM.
// Placeholder until the core runtime lands (owned by the runtime work, not the CLI).
import type { LoadedConfig } from "../config/load.ts"

export interface DaemonOptions {
  /** Print plain progress lines even on a TTY. */
  readonly plain?: boolean
}

export const runDaemon = async (_loaded: LoadedConfig, _options: DaemonOptions = {}): Promise<number> => {
  throw new Error("runDaemon: not implemented yet")
}
