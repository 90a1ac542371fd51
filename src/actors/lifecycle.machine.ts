// The lifecycle of one agent or service instance as a pure XState machine: no I/O here.
// The runtime (src/runtime/instanceRunner.ts) provides the actors that do the work of each state
// (spawn, watch probes, stop) and sends facts back as events; the supervisor answers `error`.
import { assign, fromCallback, fromPromise, setup } from "xstate"

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

export interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
}

/** Why a stopping instance is being stopped decides where it goes once it is down. */
type AfterStop = "stopped" | "restart" | "fail" | "crash"

export interface LifecycleContext {
  readonly id: string
  readonly reason: string
  readonly pid: number | undefined
  readonly lastExit: ExitInfo | undefined
  readonly backoffMs: number
  readonly afterStop: AfterStop
  /** Why the instance failed (set on entering `error`): "exit", "spawn", "liveness", "heartbeat", "memory", ... */
  readonly failure: string | undefined
  readonly stopOptions: StopOptions | undefined
}

export interface StopOptions {
  readonly graceful?: boolean
  readonly timeoutMs?: number
}

export type CommandEvent =
  | { type: "START"; reason?: string }
  | ({ type: "STOP"; reason?: string } & StopOptions)
  | { type: "RESTART"; reason?: string }
  | { type: "SUSPEND"; reason?: string }
  | { type: "RESUME"; reason?: string }

export type FactEvent =
  | { type: "SPAWNED"; pid?: number }
  | { type: "SPAWN_FAILED"; error: string }
  | { type: "EXITED"; code: number | null; signal: string | null }
  | { type: "PROBE_PASSED"; detail?: string }
  | { type: "PROBE_FAILED"; detail: string }
  | { type: "LIVENESS_FAILED"; detail: string }
  | { type: "HEARTBEAT_MISSED"; detail?: string }
  | { type: "RESOURCE_EXCEEDED"; resource: string; detail: string }

/** The supervisor's answer to an instance in `error`. */
export type DecisionEvent =
  | { type: "RETRY"; delayMs: number; reason: string }
  | { type: "GIVE_UP"; reason: string }
  | { type: "STAND_DOWN"; reason: string }
  /** The group shut down (its restart intensity was exceeded): stop and stay crashed. */
  | { type: "SHUTDOWN"; reason: string }

export type LifecycleEvent = CommandEvent | FactEvent | DecisionEvent

export type CommandName = "start" | "stop" | "restart" | "suspend" | "resume"

const describeExit = (e: { code: number | null; signal: string | null }) =>
  e.signal ? `exited on ${e.signal}` : `exited with code ${e.code}`

/** Placeholders: the runtime replaces these with real Effect-backed actors via `.provide`. */
const spawnPlaceholder = fromPromise<{ pid?: number }, { id: string }>(async () => ({}))
const stopPlaceholder = fromPromise<void, { id: string; options: StopOptions | undefined }>(async () => {})
const watchPlaceholder = fromCallback<LifecycleEvent, { id: string }>(() => () => {})

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as { id: string },
  },
  actors: {
    spawnInstance: spawnPlaceholder,
    stopInstance: stopPlaceholder,
    watchHealth: watchPlaceholder,
  },
  delays: {
    backoffDelay: ({ context }) => context.backoffMs,
  },
}).createMachine({
  id: "lifecycle",
  initial: "stopped",
  context: ({ input }) => ({
    id: input.id,
    reason: "created",
    pid: undefined,
    lastExit: undefined,
    backoffMs: 0,
    afterStop: "stopped",
    failure: undefined,
    stopOptions: undefined,
  }),
  states: {
    stopped: {
      on: {
        START: { target: "starting", actions: assign({ reason: ({ event }) => event.reason ?? "start" }) },
        RESTART: {
          target: "starting",
          actions: assign({ reason: ({ event }) => event.reason ?? "restart" }),
        },
      },
    },
    starting: {
      invoke: {
        src: "spawnInstance",
        input: ({ context }) => ({ id: context.id }),
        onDone: {
          target: "running",
          actions: assign({ pid: ({ event }) => event.output.pid, reason: "spawned" }),
        },
        onError: {
          target: "error",
          actions: assign({
            failure: "spawn",
            pid: undefined,
            reason: ({ event }) => `spawn failed: ${errorText(event.error)}`,
          }),
        },
      },
      on: {
        EXITED: {
          target: "error",
          actions: assign({
            failure: "exit",
            pid: undefined,
            lastExit: ({ event }) => ({ code: event.code, signal: event.signal }),
            reason: ({ event }) => `${describeExit(event)} while starting`,
          }),
        },
        SHUTDOWN: {
          target: "stopping",
          actions: assign({
            afterStop: "crash",
            stopOptions: undefined,
            reason: ({ event }) => event.reason,
          }),
        },
        STOP: {
          target: "stopping",
          actions: assign({
            afterStop: "stopped",
            stopOptions: ({ event }) => stopOptionsOf(event),
            reason: ({ event }) => event.reason ?? "stop",
          }),
        },
      },
    },
    running: {
      initial: "unready",
      invoke: { src: "watchHealth", input: ({ context }) => ({ id: context.id }) },
      states: {
        unready: {
          on: {
            PROBE_PASSED: {
              target: "ready",
              actions: assign({ reason: ({ event }) => event.detail ?? "ready" }),
            },
          },
        },
        ready: {
          on: {
            PROBE_FAILED: { target: "unready", actions: assign({ reason: ({ event }) => event.detail }) },
          },
        },
      },
      on: {
        EXITED: {
          target: "error",
          actions: assign({
            failure: "exit",
            pid: undefined,
            lastExit: ({ event }) => ({ code: event.code, signal: event.signal }),
            reason: ({ event }) => describeExit(event),
          }),
        },
        LIVENESS_FAILED: {
          target: "stopping",
          actions: assign({
            afterStop: "fail",
            failure: "liveness",
            stopOptions: undefined,
            reason: ({ event }) => event.detail,
          }),
        },
        HEARTBEAT_MISSED: {
          target: "stopping",
          actions: assign({
            afterStop: "fail",
            failure: "heartbeat",
            stopOptions: undefined,
            reason: ({ event }) => event.detail ?? "heartbeat missed",
          }),
        },
        RESOURCE_EXCEEDED: {
          target: "stopping",
          actions: assign({
            afterStop: "fail",
            failure: ({ event }) => event.resource,
            stopOptions: undefined,
            reason: ({ event }) => event.detail,
          }),
        },
        STOP: {
          target: "stopping",
          actions: assign({
            afterStop: "stopped",
            stopOptions: ({ event }) => stopOptionsOf(event),
            reason: ({ event }) => event.reason ?? "stop",
          }),
        },
        RESTART: {
          target: "stopping",
          actions: assign({
            afterStop: "restart",
            stopOptions: undefined,
            reason: ({ event }) => event.reason ?? "restart",
          }),
        },
        SUSPEND: {
          target: "suspended",
          actions: assign({ reason: ({ event }) => event.reason ?? "suspend" }),
        },
        SHUTDOWN: {
          target: "stopping",
          actions: assign({
            afterStop: "crash",
            stopOptions: undefined,
            reason: ({ event }) => event.reason,
          }),
        },
      },
    },
    suspended: {
      on: {
        RESUME: { target: "running", actions: assign({ reason: ({ event }) => event.reason ?? "resume" }) },
        EXITED: {
          target: "error",
          actions: assign({
            failure: "exit",
            pid: undefined,
            lastExit: ({ event }) => ({ code: event.code, signal: event.signal }),
            reason: ({ event }) => `${describeExit(event)} while suspended`,
          }),
        },
        STOP: {
          target: "stopping",
          actions: assign({
            afterStop: "stopped",
            stopOptions: ({ event }) => stopOptionsOf(event),
            reason: ({ event }) => event.reason ?? "stop",
          }),
        },
        RESTART: {
          target: "stopping",
          actions: assign({
            afterStop: "restart",
            stopOptions: undefined,
            reason: ({ event }) => event.reason ?? "restart",
          }),
        },
        SHUTDOWN: {
          target: "stopping",
          actions: assign({
            afterStop: "crash",
            stopOptions: undefined,
            reason: ({ event }) => event.reason,
          }),
        },
      },
    },
    stopping: {
      invoke: {
        src: "stopInstance",
        input: ({ context }) => ({ id: context.id, options: context.stopOptions }),
        onDone: [
          {
            guard: ({ context }) => context.afterStop === "restart",
            target: "starting",
            actions: assign({ pid: undefined }),
          },
          {
            guard: ({ context }) => context.afterStop === "fail",
            target: "error",
            actions: assign({ pid: undefined }),
          },
          {
            guard: ({ context }) => context.afterStop === "crash",
            target: "crashed",
            actions: assign({ pid: undefined }),
          },
          { target: "stopped", actions: assign({ pid: undefined, reason: ({ context }) => context.reason }) },
        ],
        // A stop that fails still leaves nothing running (the driver escalates to SIGKILL).
        onError: {
          target: "stopped",
          actions: assign({ pid: undefined, reason: ({ event }) => `stop: ${errorText(event.error)}` }),
        },
      },
      on: {
        // Stopping wins over a stop-to-restart: the operator's intent is the last word.
        STOP: {
          actions: assign({ afterStop: "stopped", reason: ({ event }) => event.reason ?? "stop" }),
        },
      },
    },
    backoff: {
      after: { backoffDelay: { target: "starting", actions: assign({ reason: "backoff elapsed" }) } },
      on: {
        START: { target: "starting", actions: assign({ reason: ({ event }) => event.reason ?? "start" }) },
        RESTART: {
          target: "starting",
          actions: assign({ reason: ({ event }) => event.reason ?? "restart" }),
        },
        STOP: { target: "stopped", actions: assign({ reason: ({ event }) => event.reason ?? "stop" }) },
        SHUTDOWN: { target: "crashed", actions: assign({ reason: ({ event }) => event.reason }) },
      },
    },
    error: {
      on: {
        RETRY: {
          target: "backoff",
          actions: assign({ backoffMs: ({ event }) => event.delayMs, reason: ({ event }) => event.reason }),
        },
        GIVE_UP: { target: "crashed", actions: assign({ reason: ({ event }) => event.reason }) },
        STAND_DOWN: { target: "stopped", actions: assign({ reason: ({ event }) => event.reason }) },
        START: { target: "starting", actions: assign({ reason: ({ event }) => event.reason ?? "start" }) },
        RESTART: {
          target: "starting",
          actions: assign({ reason: ({ event }) => event.reason ?? "restart" }),
        },
        STOP: { target: "stopped", actions: assign({ reason: ({ event }) => event.reason ?? "stop" }) },
        SHUTDOWN: { target: "crashed", actions: assign({ reason: ({ event }) => event.reason }) },
      },
    },
    crashed: {
      on: {
        START: { target: "starting", actions: assign({ reason: ({ event }) => event.reason ?? "start" }) },
        RESTART: {
          target: "starting",
          actions: assign({ reason: ({ event }) => event.reason ?? "restart" }),
        },
      },
    },
  },
})

const stopOptionsOf = (e: StopOptions): StopOptions | undefined =>
  e.graceful === undefined && e.timeoutMs === undefined
    ? undefined
    : {
        ...(e.graceful === undefined ? {} : { graceful: e.graceful }),
        ...(e.timeoutMs === undefined ? {} : { timeoutMs: e.timeoutMs }),
      }

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export type LifecycleMachine = typeof lifecycleMachine

/** The top-level state name of a snapshot value (`{ running: "ready" }` → "running"). */
export const topState = (value: unknown): LifecycleState =>
  (typeof value === "string" ? value : Object.keys(value as object)[0]) as LifecycleState

export const readinessOf = (value: unknown): Readiness | undefined =>
  typeof value === "object" && value !== null && "running" in value
    ? ((value as { running: Readiness }).running ?? undefined)
    : undefined
