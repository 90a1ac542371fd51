// The types of an instance's lifecycle (lifecycle.machine.ts): its states, events and context,
// without xstate, so that SAM's public types (src/index.ts) reach none of xstate's declarations.

/** The state names surfaces show (the machine's nesting folded away). */
export type LifecycleState =
  | "stopped"
  | "starting"
  | "running"
  | "suspended"
  | "stopping"
  | "backoff"
  | "error"
  | "crashed"

export const lifecycleStates: ReadonlyArray<LifecycleState> = [
  "stopped",
  "starting",
  "running",
  "suspended",
  "stopping",
  "backoff",
  "error",
  "crashed",
]

export type Readiness = "ready" | "unready"

/** Why an instance is stopping decides where it goes once it is down. */
export type StopIntent = "toStopped" | "toRestart" | "toFail" | "toCrash" | "toShutdown"

export interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
}

export interface LifecycleContext {
  readonly id: string
  readonly reason: string
  readonly pid: number | undefined
  readonly lastExit: ExitInfo | undefined
  /** Why the instance failed (set on entering error): "exit", "spawn", "liveness", "heartbeat", "memory", ... */
  readonly failure: string | undefined
  /** The stop in progress skips the grace period (SIGKILL at once). */
  readonly force: boolean
  /** Grace period of the stop in progress, when the command set one. */
  readonly timeoutMs: number | undefined
  /** How long backoff (or a crashed unit's next attempt) waits. */
  readonly delayMs: number
}

export interface StopOptions {
  /** false: SIGKILL at once (a forced stop). */
  readonly graceful?: boolean | undefined
  readonly timeoutMs?: number | undefined
}

export type CommandEvent =
  | { type: "START"; reason?: string }
  | ({ type: "STOP"; reason?: string } & StopOptions)
  | { type: "RESTART"; reason?: string }
  | { type: "SUSPEND"; reason?: string }
  | { type: "RESUME"; reason?: string }

/** Sent by the supervisor, not by operators. */
export type SystemEvent =
  /** SAM is stopping: stop, and stay stopped. */
  | { type: "SHUTDOWN"; reason: string; graceful?: boolean }
  /** The instance's group passed its restart intensity: stop, and stay crashed. */
  | { type: "GROUP_SHUTDOWN"; reason: string }
  /**
   * The unit's watched files changed (config `watch`): restart what runs or is failing, at once
   * (a crash loop fixed by the edit comes up without waiting out its backoff); leave alone what
   * is stopped or being stopped.
   */
  | { type: "REFRESH"; reason: string }

/** How a stop ended (nothing: nothing of the instance was running). */
export interface StopOutcome {
  /** How it ended. */
  readonly exit?: ExitInfo
  /** The signal SAM sent it (absent: it had ended by itself before the stop). */
  readonly sent?: string
  /** It outlived its grace period and was SIGKILLed ("SIGKILLed: it did not exit within its 2s grace after SIGTERM"). */
  readonly killed?: string
}

export type FactEvent =
  /** `lastLine`: the last line it wrote to stderr, quoted in the reason (EADDRINUSE, a stack trace). */
  | { type: "EXITED"; code: number | null; signal: string | null; lastLine?: string }
  /** The stop actor is done: nothing of the instance is left running. */
  | ({ type: "STOPPED" } & StopOutcome)
  | { type: "PROBE_PASSED"; detail?: string }
  | { type: "PROBE_FAILED"; detail: string }
  | { type: "LIVENESS_FAILED"; detail: string }
  | { type: "HEARTBEAT_MISSED"; detail?: string }
  | { type: "RESOURCE_EXCEEDED"; resource: string; detail: string }

/** The supervisor's answer to an instance in `error`. */
export type DecisionEvent =
  | { type: "RETRY"; delayMs: number; reason: string }
  /** Past its restart intensity, but `on_exhausted: retry`: crashed, with another attempt after delayMs. */
  | { type: "RETRY_LATER"; delayMs: number; reason: string }
  | { type: "GIVE_UP"; reason: string }
  | { type: "STAND_DOWN"; reason: string }

export type LifecycleEvent = CommandEvent | SystemEvent | FactEvent | DecisionEvent

export type CommandName = "start" | "stop" | "restart" | "suspend" | "resume"

/** An exit as reasons say it ("exited with code 0", "exited on SIGKILL"). */
export const describeExit = (e: ExitInfo) =>
  e.signal ? `exited on ${e.signal}` : `exited with code ${e.code}`

/** What the stop actor needs; a later forced stop reaches it through the `escalate` action. */
export interface StopInput {
  readonly id: string
  readonly force: boolean
  readonly timeoutMs: number | undefined
}

/** What surfaces see of a snapshot value: the state name, readiness, and the finer detail. */
export interface PublicState {
  readonly state: LifecycleState
  readonly readiness: Readiness | undefined
  readonly stopIntent: StopIntent | undefined
  /** Crashed and waiting for another attempt (`on_exhausted: retry`). */
  readonly retrying: boolean
}
