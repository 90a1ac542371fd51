// Setting up one version of a plugin: decode its config with its schema, run its setup with a
// deadline, and check that what it staged can go live. Never throws: an instance or the reason.
import { Result, Schema } from "effect"
import { type ConfigPath, formatPath } from "../config/configPath.ts"
import { schemaIssues } from "../config/schemaIssues.ts"
import { describe, type PluginError, pluginError } from "./errors.ts"
import { createPluginContext, type PluginEnvironment } from "./pluginContext.ts"
import { PluginInstance } from "./pluginInstance.ts"
import type { PluginDefinition } from "./types.ts"

/** `configAt`: where the config is written (`plugins[0].config`), named in each problem. */
export const decodeConfig = (
  definition: PluginDefinition,
  raw: unknown,
  configAt: ConfigPath = ["config"],
): { value: unknown } | PluginError => {
  const schema = definition.configSchema
  if (!schema) return { value: raw ?? {} }
  const input = raw ?? {}
  const result = Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)(input, {
    errors: "all",
    onExcessProperty: "error",
  })
  if (Result.isSuccess(result)) return { value: result.success }
  const problems = schemaIssues(result.failure.issue, input).map((d) => {
    const where = formatPath([...configAt, ...d.path])
    const what =
      d.expected === undefined ? d.message : `expected ${d.expected}, found ${d.found ?? "nothing"}`
    return `${where}: ${what}`
  })
  return pluginError(
    "PLUGIN_CONFIG_INVALID",
    definition.name,
    `plugin "${definition.name}" has an invalid config: ${problems.join("; ")}`,
  )
}

const setupOutcome = async (
  setup: () => void | Promise<void>,
  timeoutMs: number,
): Promise<"ok" | "timeout" | { error: unknown }> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs)
  })
  try {
    return await Promise.race([
      Promise.resolve()
        .then(setup)
        .then(
          () => "ok" as const,
          (error: unknown) => ({ error }),
        ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** A set-up instance ready to go live, or why not (its scope is then already closed). */
export const setUpInstance = async (
  definition: PluginDefinition,
  config: unknown,
  env: PluginEnvironment,
  timeoutMs: number,
): Promise<PluginInstance | PluginError> => {
  const name = definition.name
  const instance = new PluginInstance(definition, config)
  const ctx = createPluginContext(instance, env)
  const outcome = await setupOutcome(() => definition.setup(ctx), timeoutMs)
  if (outcome !== "ok") {
    await instance.close()
    return outcome === "timeout"
      ? pluginError(
          "PLUGIN_SETUP_TIMEOUT",
          name,
          `plugin "${name}" ${definition.version}: setup did not finish within ${timeoutMs} ms; ` +
            "make setup return once registrations are made and start long work from a timer",
        )
      : pluginError(
          "PLUGIN_SETUP_FAILED",
          name,
          `plugin "${name}" ${definition.version}: setup failed: ${describe(outcome.error)}`,
          outcome.error,
        )
  }
  const conflicts = instance.conflicts()
  if (conflicts.length > 0) {
    await instance.close()
    return pluginError("PLUGIN_CONFLICT", name, `plugin "${name}": ${conflicts.join("; ")}`)
  }
  return instance
}
