// A one-shot job written without a restart_policy runs again and again: SAM's default is
// "always", as PM2's autorestart is, where Compose's is "no". Said once per unit, the first time
// such a service exits 0, with the key that makes it a job.

import { describeExit } from "../actors/lifecycleTypes.ts"
import type { LoadedConfig } from "../config/load.ts"
import type { SamEvent } from "../runtime/eventBus.ts"

const cleanExit = describeExit({ code: 0, signal: null })

/** A hint line for `event`, at most once per unit; undefined for every other event. */
export const restartedJobHint = (loaded: () => LoadedConfig) => {
  const told = new Set<string>()
  return (event: SamEvent): string | undefined => {
    if (event.type !== "transition" || event.to !== "error" || event.reason !== cleanExit) return undefined
    if (told.has(event.unit)) return undefined
    const { config, origins } = loaded()
    if (config.services[event.unit] === undefined) return undefined
    const key = `services.${event.unit}.restart_policy`
    if ([...origins.keys()].some((k) => k === key || k.startsWith(`${key}.`))) return undefined
    told.add(event.unit)
    return `sam: hint: ${event.unit} exited 0 and is started again: its restart_policy is "always", the default (as PM2's autorestart; Compose's is "no"); a job that runs once wants restart_policy: "on-failure"`
  }
}
