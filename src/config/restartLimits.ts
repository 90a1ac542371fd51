// Which restart limits apply to each unit of a decoded config, in words: the unit's own intensity
// (max_restarts in window_seconds, then on_exhausted) and its supervision group's. `sam validate`
// prints these lines; docs/CONFIG.md ("OTP and restart limits") explains them. Pure.

import type { RestartPolicyConfig } from "./restartPolicy.ts"
import type { SamConfig, SupervisionGroupConfig } from "./schema.ts"

const seconds = (s: number): string => `${s}s`

/** The unit's own limit: `permanent, 5 restarts in 60s, then retry every 300s`. */
export const describeOwnLimit = (policy: RestartPolicyConfig): string => {
  if (policy.type === "temporary") return "temporary, never restarted"
  const restarts = `${policy.max_restarts} restart${policy.max_restarts === 1 ? "" : "s"}`
  const then =
    policy.on_exhausted === "retry" ? `retry every ${seconds(policy.max_backoff_seconds)}` : "give up"
  return `${policy.type}, ${restarts} in ${seconds(policy.window_seconds)}, then ${then}`
}

/** The group's limit: `group storage (one_for_all): 30 restarts in 60s`. */
export const describeGroupLimit = (name: string, group: SupervisionGroupConfig | undefined): string => {
  if (group === undefined || group.max_restarts === null)
    return `group ${name}: no group limit (implicit group)`
  return `group ${name} (${group.strategy}): ${group.max_restarts} restarts in ${seconds(group.window_seconds)}`
}

/** One line per unit: `services.api: permanent, 5 restarts in 60s, then ...; group services: ...`. */
export const describeRestartLimits = (config: SamConfig): Array<string> => {
  const units = [
    ...Object.entries(config.services).map(([id, u]) => [`services.${id}`, u] as const),
    ...Object.entries(config.agents).map(([id, u]) => [`agents.${id}`, u] as const),
  ]
  return units.map(([path, unit]) =>
    unit.enabled
      ? `${path}: ${describeOwnLimit(unit.restart_policy)}; ${describeGroupLimit(unit.group, config.supervision.groups[unit.group])}`
      : `${path}: disabled`,
  )
}
