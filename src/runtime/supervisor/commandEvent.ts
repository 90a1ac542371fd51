// An operator command (start, stop, restart, suspend, resume) as the lifecycle event it sends, and
// the error a command the instance's state does not allow is refused with. Used by the runner.
import { Data } from "effect"
import type { CommandName, LifecycleEvent, StopOptions } from "../../actors/lifecycleTypes.ts"

export class CommandRefused extends Data.TaggedError("CommandRefused")<{
  readonly unit: string
  readonly command: CommandName
  readonly state: string
  readonly message: string
  /** The message already says what to do instead (the API adds no hint of its own). */
  readonly advised?: boolean
}> {}

export const commandEvent = (
  command: CommandName,
  options: StopOptions & { reason?: string | undefined },
): LifecycleEvent => {
  const reason = options.reason === undefined ? {} : { reason: options.reason }
  switch (command) {
    case "start":
      return { type: "START", ...reason }
    case "stop":
      return {
        type: "STOP",
        ...reason,
        ...(options.graceful === undefined ? {} : { graceful: options.graceful }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      }
    case "restart":
      return { type: "RESTART", ...reason }
    case "suspend":
      return { type: "SUSPEND", ...reason }
    case "resume":
      return { type: "RESUME", ...reason }
  }
}
