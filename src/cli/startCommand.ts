// `sam start`: load the config (exit 2 on any problem, nothing started), then run the daemon
// (src/runtime/daemon.ts) in the foreground until SIGINT/SIGTERM.

import { type Command, EXIT_USAGE, stringOption, UsageError } from "./command.ts"
import { configOption, loadFromOptions, printWarnings, setOption } from "./configOptions.ts"

export const startCommand: Command = {
  name: "start",
  summary: "Run SAM in the foreground with the configured agents and services",
  description:
    "Run SAM in the foreground: load and validate the configuration, start every enabled\n" +
    "agent and service in dependency order, and serve the control API until SIGINT/SIGTERM.\n" +
    "An invalid configuration is reported in full and nothing starts (exit 2).",
  options: {
    config: configOption,
    set: setOption,
    host: {
      type: "string",
      placeholder: "host",
      description: "Control API address (same as --set api.host=...)",
    },
    port: {
      type: "string",
      placeholder: "port",
      description: "Control API port, 0 for any free port (--set api.port=...)",
    },
  },
  run: async ({ values, io }) => {
    const overrides: Array<string> = []
    const host = stringOption(values, "host")
    const port = stringOption(values, "port")
    if (host !== undefined) overrides.push(`api.host=${JSON.stringify(host)}`)
    if (port !== undefined) {
      if (!/^\d+$/.test(port) || Number(port) > 65535)
        throw new UsageError(`--port must be 0-65535, found "${port}"`, ["sam", "start"])
      overrides.push(`api.port=${port}`)
    }
    const loaded = await loadFromOptions(io, values, { cliOverrides: overrides })
    if (loaded === undefined) return EXIT_USAGE
    printWarnings(io, loaded.warnings)
    const { runDaemon } = await import("../runtime/daemon.ts")
    return runDaemon(loaded, {})
  },
}
