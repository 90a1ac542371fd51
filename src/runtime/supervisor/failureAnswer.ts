// What the supervisor does when an instance fails: publish the facts (instance.failed), ask the
// pure decide() for OTP's answer, and apply it: restart after a backoff (and the siblings the
// group's strategy takes with it), retry later while crashed, give up, stand down, or shut the
// whole group down and escalate to the root. supervisor.ts calls it from `error` transitions.
import { withDelay } from "../delayText.ts"
import type { SamEventBody } from "../eventBus.ts"
import { type Decision, decide, type InstanceWindow } from "./decide.ts"
import type { InstanceRunner } from "./instanceRunner.ts"
import { siblingsToRestart } from "./supervisionGroup.ts"
import type { GroupState } from "./supervisionGroups.ts"
import { isDown } from "./unit.ts"

/** What answering a failure needs of the supervisor. */
export interface FailureContext {
  readonly group: (name: string) => GroupState
  /** A group's instances in start order. */
  readonly members: (group: string) => ReadonlyArray<InstanceRunner>
  readonly windowOf: (runner: InstanceRunner) => InstanceWindow
  readonly setWindow: (runner: InstanceRunner, window: InstanceWindow) => void
  readonly publish: (event: SamEventBody) => void
  readonly now: () => number
  /** In [0, 1): the backoff's jitter. */
  readonly random: () => number
  readonly stopping: () => boolean
}

/** OTP's answer to a failed child, computed by decide() and applied. */
export const answerFailure = (ctx: FailureContext, runner: InstanceRunner): void => {
  const { spec } = runner
  const machine = runner.context
  const now = ctx.now()
  // The facts of the failure, for crash reports and alerts (before the decision changes them).
  ctx.publish({
    type: "instance.failed",
    unit: spec.id,
    instance: runner.index,
    failure: machine.failure ?? "exit",
    exit_code: machine.lastExit?.code ?? null,
    signal: machine.lastExit?.signal ?? null,
    reason: machine.reason,
    started_at: runner.startedAt ?? null,
    // The incarnation's lines begin here (an agent's setup logs before it is started).
    spawned_at: runner.spawnedAt || null,
    // A setup that failed ran from the spawn (it never was started).
    uptime_ms: Math.max(
      0,
      now - (runner.startedAt ?? (machine.failure === "setup" && runner.spawnedAt ? runner.spawnedAt : now)),
    ),
    restarts: runner.restarts,
  })
  const group = ctx.group(spec.group)
  const result = decide({
    key: runner.key,
    policy: spec.restart,
    failure: machine.failure,
    exit: machine.lastExit,
    reason: machine.reason,
    window: ctx.windowOf(runner),
    startedAt: runner.startedAt,
    group,
    shuttingDown: ctx.stopping(),
    now,
    random: ctx.random(),
  })
  ctx.setWindow(runner, result.window)
  group.stamps = result.groupStamps
  apply(ctx, runner, group, result.decision)
}

const apply = (ctx: FailureContext, runner: InstanceRunner, group: GroupState, decision: Decision): void => {
  const publish = (action: string, detail: string, delayMs?: number) =>
    ctx.publish({
      type: "supervisor",
      action,
      detail,
      unit: runner.key,
      group: group.spec.name,
      ...(delayMs === undefined ? {} : { delayMs }),
    })
  switch (decision.kind) {
    case "stand_down":
      if (!ctx.stopping() && !group.failed) publish("stand-down", decision.reason)
      runner.send({ type: "STAND_DOWN", reason: decision.reason })
      return
    case "retry":
      publish(
        "restart",
        `${withDelay(decision.reason, "restart", decision.delayMs)} (${group.spec.strategy})`,
        decision.delayMs,
      )
      runner.send({ type: "RETRY", delayMs: decision.delayMs, reason: decision.reason })
      restartSiblings(ctx, group, runner)
      return
    case "retry_later":
      publish("give-up", `${decision.escalation}; retrying every ${decision.delayMs / 1000}s`)
      escalated(ctx, group, decision.escalation)
      runner.send({ type: "RETRY_LATER", delayMs: decision.delayMs, reason: decision.reason })
      return
    case "give_up":
      publish("give-up", decision.escalation)
      escalated(ctx, group, decision.escalation)
      runner.send({ type: "GIVE_UP", reason: decision.reason })
      return
    case "group_shutdown":
      runner.send({ type: "GIVE_UP", reason: decision.reason })
      shutdownGroup(ctx, group, decision.reason)
      return
  }
}

const escalated = (ctx: FailureContext, group: GroupState, detail: string): void => {
  const limit = group.spec.maxRestarts === undefined ? " (it has no restart limit of its own)" : ""
  ctx.publish({
    type: "supervisor",
    action: "escalation",
    group: group.spec.name,
    detail: `escalated to group ${group.spec.name}${limit}: ${detail}`,
  })
}

const restartSiblings = (ctx: FailureContext, group: GroupState, failed: InstanceRunner): void => {
  const members = ctx.members(group.spec.name)
  const keys = siblingsToRestart(
    group.spec.strategy,
    members.map((m) => ({
      key: m.key,
      temporary: m.spec.restart.type === "temporary",
      settled: isDown(m) || m.state === "stopping",
    })),
    failed.key,
  )
  const reason = `${group.spec.strategy}: sibling ${failed.key} failed`
  for (const sibling of members) if (keys.includes(sibling.key)) sibling.send({ type: "RESTART", reason })
}

/** OTP: a supervisor past its intensity terminates its children and escalates; the root reports. */
const shutdownGroup = (ctx: FailureContext, group: GroupState, reason: string): void => {
  group.failed = true
  ctx.publish({ type: "supervisor", action: "group-shutdown", group: group.spec.name, detail: reason })
  for (const member of ctx.members(group.spec.name)) member.send({ type: "GROUP_SHUTDOWN", reason })
  ctx.publish({
    type: "supervisor",
    action: "escalation",
    group: "root",
    detail: `escalated to root: ${reason}; SAM keeps running; start one of the group's units to bring the group back`,
  })
}
