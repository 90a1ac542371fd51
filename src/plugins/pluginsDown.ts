// Why a capability no running provider offers is down on the plugin side: the plugins that
// registered it and are not running now, with their status and error (a restart backoff says
// when it retries). The capability router asks this with the agents' explanation.
import type { PluginStatus } from "./types.ts"

/**
 * "plugin hooky offers it but is failed: ...; restarting in 998 ms": each plugin in `owners`
 * that is not running. Undefined when none is down (a plugin removed from the config is not).
 */
export const pluginsDown = (
  owners: ReadonlySet<string> | undefined,
  statusOf: (plugin: string) => PluginStatus | undefined,
): string | undefined => {
  const down = [...(owners ?? [])].flatMap((plugin) => {
    const status = statusOf(plugin)
    if (status === undefined || status.status === "running") return []
    return [`plugin ${plugin} offers it but is ${status.status}${status.error ? `: ${status.error}` : ""}`]
  })
  return down.length === 0 ? undefined : down.join("; ")
}
