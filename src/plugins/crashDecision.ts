// The host's answer to a plugin whose hook crashed, made by the supervisor's own pure decide()
// (src/runtime/supervisor/decide.ts): set it up again after a backoff, at most `maxRestarts` times
// in `windowMs`, or give up (crashed) until a fixed version is saved. One restart logic for units
// and plugins; the plugin machine (src/actors/plugin.machine.ts) records the outcome.
import type { DecisionEvent } from "../actors/pluginTypes.ts"
import { decide, freshWindow, type InstanceWindow } from "../runtime/supervisor/decide.ts"
import { implicitGroup } from "../runtime/supervisor/supervisionGroup.ts"
import type { RestartSpec } from "../runtime/unitSpec.ts"

export interface PluginRestartPolicy {
  /** 0 turns automatic restarts off. Default 3. */
  readonly maxRestarts?: number
  readonly windowMs?: number
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
}

/** A plugin's restart policy as the supervisor's: permanent, no exit codes, give up when exhausted. */
export const restartSpecOf = (policy: PluginRestartPolicy | false): RestartSpec => {
  const maxRestarts = policy === false ? 0 : (policy.maxRestarts ?? 3)
  const windowMs = (policy === false ? undefined : policy.windowMs) ?? 60_000
  return {
    type: maxRestarts === 0 ? "temporary" : "permanent",
    maxRestarts,
    windowMs,
    backoffBaseMs: (policy === false ? undefined : policy.backoffBaseMs) ?? 1_000,
    backoffMaxMs: (policy === false ? undefined : policy.backoffMaxMs) ?? 30_000,
    // Up a whole window without crashing and the backoff starts over.
    stableMs: windowMs,
    forceExitCodes: [],
    preventExitCodes: [],
    onExhausted: "give_up",
  }
}

const plugins = implicitGroup("plugins")

export interface CrashDecision {
  /** What the plugin machine is told. */
  readonly event: DecisionEvent
  /** What the bus is told, if anything. */
  readonly published:
    | { readonly type: "plugin.restarting"; readonly delayMs: number }
    | { readonly type: "plugin.crashed"; readonly detail: string }
    | undefined
  /** The plugin's restart window after this crash (kept by the host). */
  readonly window: InstanceWindow
}

/** The decision on a crash of `plugin`'s version that went live at `liveSince`. */
export const decideCrash = (input: {
  readonly plugin: string
  readonly policy: RestartSpec
  readonly reason: string
  readonly window: InstanceWindow | undefined
  readonly liveSince: number | undefined
  readonly stopping: boolean
  readonly now: number
  readonly random: number
}): CrashDecision => {
  const { policy } = input
  const { decision, window } = decide({
    key: `plugin "${input.plugin}"`,
    policy,
    failure: "hook",
    exit: undefined,
    reason: input.reason,
    window: input.window ?? freshWindow,
    startedAt: input.liveSince,
    group: { spec: plugins, stamps: [], failed: false },
    shuttingDown: input.stopping,
    now: input.now,
    random: input.random,
  })
  switch (decision.kind) {
    case "retry":
      return {
        event: { type: "RETRY", delayMs: decision.delayMs, reason: `restarting in ${decision.delayMs} ms` },
        published: { type: "plugin.restarting", delayMs: decision.delayMs },
        window,
      }
    case "stand_down":
      return { event: { type: "STAND_DOWN", reason: "" }, published: undefined, window }
    default: {
      // give_up (retry_later and group_shutdown cannot happen: no on_exhausted retry, no group limit).
      const detail = `gave up after ${policy.maxRestarts} restarts in ${policy.windowMs / 1000}s`
      return {
        event: { type: "GIVE_UP", reason: `${detail} (save a fixed version to reload it)` },
        published: { type: "plugin.crashed", detail },
        window,
      }
    }
  }
}
