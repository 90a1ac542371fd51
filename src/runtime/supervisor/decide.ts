// The supervisor's answer to a failed instance, as a pure function of (policy, windows, snapshot,
// now): restart after a backoff, retry later while crashed, give up, stand down, or shut the
// whole group down. OTP semantics: per-unit restart intensity escalates to the group; a group
// past its own intensity shuts its members down. The supervisor applies the result.

import type { ExitInfo } from "../../actors/lifecycleTypes.ts"
import type { RestartSpec } from "../unitSpec.ts"
import { backoffDelay } from "./backoff.ts"
import { restartVerdict } from "./restartPolicy.ts"
import { hasRoom, inWindow } from "./restartWindow.ts"
import type { GroupSpec } from "./supervisionGroup.ts"

/** What the supervisor remembers of one instance between failures (persisted in the store). */
export interface InstanceWindow {
  /** When it was restarted within the last window. */
  readonly stamps: ReadonlyArray<number>
  /** Failures since it was last up for `stableMs`: drives backoff growth. */
  readonly consecutiveFailures: number
}

export const freshWindow: InstanceWindow = { stamps: [], consecutiveFailures: 0 }

export interface DecisionInput {
  readonly key: string
  readonly policy: RestartSpec
  readonly failure: string | undefined
  readonly exit: ExitInfo | undefined
  /** Why it failed, as the machine recorded it ("exited with code 1"). */
  readonly reason: string
  readonly window: InstanceWindow
  /** When the failed incarnation started, if it did. */
  readonly startedAt: number | undefined
  readonly group: {
    readonly spec: GroupSpec
    readonly stamps: ReadonlyArray<number>
    readonly failed: boolean
  }
  readonly shuttingDown: boolean
  readonly now: number
  /** In [0, 1): the backoff's jitter. */
  readonly random: number
}

export type Decision =
  | { readonly kind: "stand_down"; readonly reason: string }
  /** `reason`: why it failed; the delay is its own field (events add it: delayText.ts `withDelay`). */
  | { readonly kind: "retry"; readonly delayMs: number; readonly reason: string }
  /** Past its own intensity with `on_exhausted: retry`: crashed, another attempt after delayMs. */
  | {
      readonly kind: "retry_later"
      readonly delayMs: number
      readonly reason: string
      readonly escalation: string
    }
  | { readonly kind: "give_up"; readonly reason: string; readonly escalation: string }
  | { readonly kind: "group_shutdown"; readonly reason: string }

export interface DecisionResult {
  readonly decision: Decision
  readonly window: InstanceWindow
  readonly groupStamps: ReadonlyArray<number>
}

/** A window as configured: "60s", "0.5s". */
const secondsText = (ms: number) => `${ms / 1000}s`

export const decide = (input: DecisionInput): DecisionResult => {
  const { policy, now, group } = input
  const unchanged = (decision: Decision): DecisionResult => ({
    decision,
    window: input.window,
    groupStamps: group.stamps,
  })
  if (input.shuttingDown || group.failed) {
    const why = input.shuttingDown ? "SAM is stopping" : `group ${group.spec.name} is shut down`
    return unchanged({ kind: "stand_down", reason: `${input.reason}; not restarted (${why})` })
  }
  const verdict = restartVerdict(policy, input.failure, input.exit)
  if (!verdict.restart)
    return unchanged({ kind: "stand_down", reason: `${input.reason}; not restarted: ${verdict.why}` })

  const groupStamps = inWindow(group.stamps, now, group.spec.windowMs)
  const groupLimit = group.spec.maxRestarts
  const groupExceeded = `group ${group.spec.name} exceeded its restart intensity (${groupLimit} in ${secondsText(group.spec.windowMs)})`
  const stable = input.startedAt !== undefined && now - input.startedAt >= policy.stableMs
  const failures = stable ? 0 : input.window.consecutiveFailures

  const stamps = inWindow(input.window.stamps, now, policy.windowMs)
  if (!hasRoom(stamps, now, policy.maxRestarts, policy.windowMs)) {
    // Exhausted: escalate to the group, which may itself be past its intensity.
    const intensity = `restart intensity exceeded (${policy.maxRestarts} in ${secondsText(policy.windowMs)})`
    const escalation = `${input.key} exceeded its restart intensity (${policy.maxRestarts} restarts in ${secondsText(policy.windowMs)}); last failure: ${input.reason}`
    const window = { stamps, consecutiveFailures: failures + 1 }
    if (!hasRoom(groupStamps, now, groupLimit, group.spec.windowMs))
      return {
        decision: { kind: "group_shutdown", reason: `${groupExceeded} after: ${escalation}` },
        window,
        groupStamps,
      }
    const escalated = groupLimit === undefined ? groupStamps : [...groupStamps, now]
    if (policy.onExhausted === "retry") {
      const delayMs = policy.backoffMaxMs
      return {
        decision: {
          kind: "retry_later",
          delayMs,
          reason: `${intensity}: ${input.reason}`,
          escalation,
        },
        window,
        groupStamps: escalated,
      }
    }
    return {
      decision: { kind: "give_up", reason: `${intensity}: ${input.reason}`, escalation },
      window,
      groupStamps: escalated,
    }
  }
  if (!hasRoom(groupStamps, now, groupLimit, group.spec.windowMs))
    return unchanged({ kind: "group_shutdown", reason: groupExceeded })

  const delayMs = backoffDelay(
    { baseMs: policy.backoffBaseMs, maxMs: policy.backoffMaxMs },
    failures,
    () => input.random,
  )
  return {
    decision: { kind: "retry", delayMs, reason: input.reason },
    window: { stamps: [...stamps, now], consecutiveFailures: failures + 1 },
    groupStamps: groupLimit === undefined ? groupStamps : [...groupStamps, now],
  }
}
