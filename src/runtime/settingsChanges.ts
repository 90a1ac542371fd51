// Which of SAM's own settings a config reload changed, and whether the running SAM takes them:
// the log level, the alert rules and the API tokens apply at once; the rest of `api`, `runtime`,
// `security` and `monitoring` is read when SAM starts, so a reload reports it as needing a restart
// instead of saying nothing changed. Units, groups and plugins are configReload.ts's diff. Pure.

import { isRecord } from "../config/configPath.ts"
import type { SamConfig } from "../config/schema.ts"
import { sameValue } from "./configDiff.ts"
import type { SettingsChanges } from "./configReload.ts"

/** Settings a reload puts into effect (createSam.ts, apiTokenReload.ts). */
export const LIVE_SETTINGS: ReadonlyArray<string> = [
  "runtime.log_level",
  "monitoring.alerts",
  "security.api_tokens",
]

/**
 * Settings whose change reaches SAM some other way: agents' runtime and the vault's secrets are
 * part of each unit's spec (the unit diff restarts what they change).
 */
const THROUGH_UNITS: ReadonlyArray<string> = ["runtime.default_agent_runtime", "security.vault"]

/** Named as a whole rather than key by key (records of user-chosen names, or one setting). */
const WHOLE: ReadonlyArray<string> = [...LIVE_SETTINGS, ...THROUGH_UNITS, "security.run_as"]

const SECTIONS = ["api", "runtime", "security", "monitoring"] as const

/** The dotted paths under `path` where `a` and `b` differ. */
const differences = (path: string, a: unknown, b: unknown, out: string[]): void => {
  if (sameValue(a, b)) return
  if (WHOLE.includes(path) || !isRecord(a) || !isRecord(b)) {
    out.push(path)
    return
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
    differences(`${path}.${key}`, a[key], b[key], out)
}

export const settingsChanges = (before: SamConfig, after: SamConfig): SettingsChanges => {
  const changed: string[] = []
  for (const section of SECTIONS) differences(section, before[section], after[section], changed)
  return {
    applied: changed.filter((path) => LIVE_SETTINGS.includes(path)),
    restartNeeded: changed.filter((path) => !LIVE_SETTINGS.includes(path) && !THROUGH_UNITS.includes(path)),
  }
}
