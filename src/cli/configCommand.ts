// `sam config print`: the merged configuration with the layer each value came from, secrets masked.

import { type Command, EXIT_OK, EXIT_USAGE } from "./command.ts"
import { configOption, loadFromOptions, printWarnings, setOption } from "./configOptions.ts"

const printCommand: Command = {
  name: "print",
  summary: "Show the merged configuration and where each value came from",
  description:
    "Show the merged configuration (all layers, defaults filled, paths absolute) as YAML with\n" +
    "the layer of each value as a comment (defaults, defaults.json, the main file, system.yaml,\n" +
    "local-overrides.yaml, env, cli). Resolved secrets are shown as ***.",
  options: {
    config: configOption,
    set: setOption,
    json: { type: "boolean", description: "Print JSON (without origins) instead of YAML" },
  },
  run: async ({ values, io }) => {
    const loaded = await loadFromOptions(io, values, { secrets: "lenient" })
    if (loaded === undefined) return EXIT_USAGE
    const { configToJson, configToYaml } = await import("../config/printConfig.ts")
    io.stdout(values.json === true ? configToJson(loaded) : configToYaml(loaded))
    printWarnings(io, loaded.warnings)
    return EXIT_OK
  },
}

export const configCommand: Command = {
  name: "config",
  summary: "Inspect the configuration (config print)",
  subcommands: [printCommand],
}
