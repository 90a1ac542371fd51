// The lifecycle of one agent or service instance as a pure XState machine: no I/O here.
// The machine owns intent: every command (start, stop, force, restart, suspend, resume, SAM's
// shutdown, a group shutdown, a change of the unit's watched files) is an event each state
// answers, declared once on the parent state it applies to; why an instance is stopping is a
// sub-state, not a flag. The runtime (src/runtime/supervisor/instanceRunner.ts) provides the
// actors that do each state's work (spawn, watch health, stop, wait) and sends facts back; the
// supervisor answers `down.error`.
import { assign, fromCallback, fromPromise, setup } from "xstate"
import {
  describeExit,
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleState,
  lifecycleStates,
  type PublicState,
  type Readiness,
  type StopInput,
  type StopIntent,
} from "./lifecycleTypes.ts"

// The machine's types live apart from it, so that SAM's public types (src/index.ts) reach none of
// xstate's declarations (test/package checks a strict consumer's tsc).
export * from "./lifecycleTypes.ts"

/** Placeholders: the runtime replaces these with Effect-backed actors via `.provide`. */
const spawnPlaceholder = fromPromise<{ pid?: number }, { id: string }>(async () => ({}))
const stopPlaceholder = fromCallback<LifecycleEvent, StopInput>(({ sendBack }) => {
  sendBack({ type: "STOPPED" })
})
const watchPlaceholder = fromCallback<LifecycleEvent, { id: string }>(() => () => {})
const waitPlaceholder = fromPromise<void, { delayMs: number }>(async () => {})

const reasonOf = (event: { reason?: string }, fallback: string) => event.reason ?? fallback

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as { id: string },
  },
  actors: {
    spawnInstance: spawnPlaceholder,
    // Runs a stop to its end (signal, grace period, SIGKILL), then sends STOPPED; `escalate` skips
    // what is left of the grace.
    stopInstance: stopPlaceholder,
    watchHealth: watchPlaceholder,
    wait: waitPlaceholder,
  },
  actions: {
    /** A command or event with an optional reason becomes the instance's reason. */
    because: assign({ reason: (_, params: { reason: string }) => params.reason }),
    /** A stop begins: graceful unless forced, with the command's grace period if any. */
    beginStop: assign((_, params: { reason: string; force: boolean; timeoutMs?: number | undefined }) => ({
      reason: params.reason,
      force: params.force,
      timeoutMs: params.timeoutMs,
    })),
    /** A forced stop during a graceful one: the runtime SIGKILLs now (provided by the runner). */
    escalate: () => {},
    recordExit: assign(
      (
        _,
        params: { code: number | null; signal: string | null; suffix: string; lastLine?: string | undefined },
      ) => ({
        failure: "exit",
        pid: undefined,
        lastExit: { code: params.code, signal: params.signal },
        reason: `${describeExit(params)}${params.suffix}${params.lastLine ? `: ${params.lastLine}` : ""}`,
      }),
    ),
    recordFailure: assign((_, params: { failure: string; reason: string }) => ({
      failure: params.failure,
      reason: params.reason,
      // An earlier incarnation's exit is not this failure's: a kill's comes with its STOPPED.
      lastExit: undefined,
    })),
    /**
     * A kill for a limit is over: its exit is the one SAM caused, said in the reason ("...; SAM
     * stopped it with SIGTERM: exited with code 0"), unless `cleared` says SIGKILL had to end it.
     */
    recordKillExit: assign(({ context, event }) =>
      event.type !== "STOPPED" || event.exit === undefined
        ? {}
        : {
            lastExit: event.exit,
            reason:
              event.killed !== undefined || event.sent === undefined
                ? context.reason
                : `${context.reason}; SAM stopped it with ${event.sent}: ${describeExit(event.exit)}`,
          },
    ),
    delay: assign((_, params: { delayMs: number; reason: string }) => ({
      delayMs: params.delayMs,
      reason: params.reason,
    })),
    /** The stop is over; one that had to SIGKILL says so in the reason. */
    cleared: assign(({ context, event }) => ({
      pid: undefined,
      force: false,
      timeoutMs: undefined,
      reason:
        event.type === "STOPPED" && event.killed !== undefined
          ? `${context.reason}; ${event.killed}`
          : context.reason,
    })),
    /** The stop that follows skips the grace period (SIGKILL at once). */
    forceStop: assign({ force: true }),
  },
}).createMachine({
  id: "lifecycle",
  initial: "stopped",
  context: ({ input }) => ({
    id: input.id,
    reason: "created",
    pid: undefined,
    lastExit: undefined,
    failure: undefined,
    force: false,
    timeoutMs: undefined,
    delayMs: 0,
  }),
  states: {
    stopped: {
      on: {
        START: {
          target: "live.starting",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "start") }) },
        },
        RESTART: {
          target: "live.starting",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "restart") }) },
        },
      },
    },

    // Something of the instance may be running: every command that ends it is answered here.
    live: {
      initial: "starting",
      on: {
        STOP: {
          target: "stopping.toStopped",
          actions: {
            type: "beginStop",
            params: ({ event }) => ({
              reason: reasonOf(event, "stop"),
              force: event.graceful === false,
              timeoutMs: event.timeoutMs,
            }),
          },
        },
        RESTART: {
          target: "stopping.toRestart",
          actions: {
            type: "beginStop",
            params: ({ event }) => ({ reason: reasonOf(event, "restart"), force: false }),
          },
        },
        SHUTDOWN: {
          target: "stopping.toShutdown",
          actions: {
            type: "beginStop",
            params: ({ event }) => ({ reason: event.reason, force: event.graceful === false }),
          },
        },
        GROUP_SHUTDOWN: {
          target: "stopping.toCrash",
          actions: { type: "beginStop", params: ({ event }) => ({ reason: event.reason, force: false }) },
        },
        REFRESH: {
          target: "stopping.toRestart",
          actions: { type: "beginStop", params: ({ event }) => ({ reason: event.reason, force: false }) },
        },
      },
      states: {
        starting: {
          invoke: {
            src: "spawnInstance",
            input: ({ context }) => ({ id: context.id }),
            onDone: {
              target: "running",
              actions: assign({ pid: ({ event }) => event.output.pid, reason: "spawned" }),
            },
            onError: {
              target: "#lifecycle.down.error",
              actions: {
                type: "recordFailure",
                params: ({ event }) => ({
                  // "setup": its own code ran and failed (an agent's setup threw); else nothing ran.
                  failure: (event.error as { failure?: string } | undefined)?.failure ?? "spawn",
                  reason: `start failed: ${errorText(event.error)}`,
                }),
              },
            },
          },
          on: {
            EXITED: {
              target: "#lifecycle.down.error",
              actions: {
                type: "recordExit",
                params: ({ event }) => ({
                  code: event.code,
                  signal: event.signal,
                  suffix: " while starting",
                }),
              },
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
                  actions: { type: "because", params: ({ event }) => ({ reason: event.detail ?? "ready" }) },
                },
                // Never ready yet and its check fails: the reason says why ("HTTP 503"), not "spawned".
                PROBE_FAILED: {
                  actions: { type: "because", params: ({ event }) => ({ reason: event.detail }) },
                },
              },
            },
            ready: {
              on: {
                PROBE_FAILED: {
                  target: "unready",
                  actions: { type: "because", params: ({ event }) => ({ reason: event.detail }) },
                },
              },
            },
          },
          on: {
            EXITED: {
              target: "#lifecycle.down.error",
              actions: {
                type: "recordExit",
                params: ({ event }) => ({
                  code: event.code,
                  signal: event.signal,
                  suffix: "",
                  lastLine: event.lastLine,
                }),
              },
            },
            LIVENESS_FAILED: {
              target: "#lifecycle.stopping.toFail",
              actions: {
                type: "recordFailure",
                params: ({ event }) => ({ failure: "liveness", reason: event.detail }),
              },
            },
            // A missed heartbeat is a blocked event loop: it cannot run a SIGTERM handler, so the
            // grace period would only be waited out. SIGKILL at once.
            HEARTBEAT_MISSED: {
              target: "#lifecycle.stopping.toFail",
              actions: [
                {
                  type: "recordFailure",
                  params: ({ event }) => ({
                    failure: "heartbeat",
                    reason: event.detail ?? "heartbeat missed",
                  }),
                },
                "forceStop",
              ],
            },
            RESOURCE_EXCEEDED: {
              target: "#lifecycle.stopping.toFail",
              actions: {
                type: "recordFailure",
                params: ({ event }) => ({ failure: event.resource, reason: event.detail }),
              },
            },
            SUSPEND: {
              target: "suspended",
              actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "suspend") }) },
            },
          },
        },
        suspended: {
          on: {
            RESUME: {
              target: "running",
              actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "resume") }) },
            },
            EXITED: {
              target: "#lifecycle.down.error",
              actions: {
                type: "recordExit",
                params: ({ event }) => ({
                  code: event.code,
                  signal: event.signal,
                  suffix: " while suspended",
                }),
              },
            },
          },
        },
      },
    },

    // The stop actor runs to its end whatever the intent becomes; the last intent decides where
    // the instance goes. A forced stop escalates at once; SAM's shutdown outranks every other.
    stopping: {
      initial: "toStopped",
      invoke: {
        src: "stopInstance",
        input: ({ context }) => ({ id: context.id, force: context.force, timeoutMs: context.timeoutMs }),
      },
      on: {
        STOP: [
          {
            guard: ({ event }) => event.graceful === false,
            target: ".toStopped",
            actions: [
              { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "stop") }) },
              "escalate",
            ],
          },
          {
            target: ".toStopped",
            actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "stop") }) },
          },
        ],
        START: {
          target: ".toRestart",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "start") }) },
        },
        RESTART: {
          target: ".toRestart",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "restart") }) },
        },
        SHUTDOWN: [
          {
            guard: ({ event }) => event.graceful === false,
            target: ".toShutdown",
            actions: [{ type: "because", params: ({ event }) => ({ reason: event.reason }) }, "escalate"],
          },
          {
            target: ".toShutdown",
            actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
          },
        ],
      },
      // Each intent says where the instance goes when the stop actor is done.
      states: {
        toStopped: {
          on: {
            STOPPED: { target: "#lifecycle.stopped", actions: "cleared" },
            GROUP_SHUTDOWN: {},
          },
        },
        toRestart: {
          on: {
            STOPPED: { target: "#lifecycle.live.starting", actions: "cleared" },
            GROUP_SHUTDOWN: {
              target: "toCrash",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        toFail: {
          on: {
            STOPPED: { target: "#lifecycle.down.error", actions: ["recordKillExit", "cleared"] },
            GROUP_SHUTDOWN: {
              target: "toCrash",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
            REFRESH: {
              target: "toRestart",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        toCrash: {
          on: {
            STOPPED: { target: "#lifecycle.down.crashed", actions: "cleared" },
            REFRESH: {
              target: "toRestart",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        // Nothing starts again once SAM is stopping; a stop only waits (or, forced, escalates).
        toShutdown: {
          on: {
            STOPPED: { target: "#lifecycle.stopped", actions: "cleared" },
            START: {},
            RESTART: {},
            STOP: [{ guard: ({ event }) => event.graceful === false, actions: "escalate" }, {}],
          },
        },
      },
    },

    // Nothing of the instance runs; a start or restart brings it back, a stop settles it.
    down: {
      initial: "error",
      on: {
        START: {
          target: "live.starting",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "start") }) },
        },
        RESTART: {
          target: "live.starting",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "restart") }) },
        },
        STOP: {
          target: "stopped",
          actions: { type: "because", params: ({ event }) => ({ reason: reasonOf(event, "stop") }) },
        },
        SHUTDOWN: {
          target: "stopped",
          actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
        },
        GROUP_SHUTDOWN: {
          target: ".crashed",
          actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
        },
        REFRESH: {
          target: "live.starting",
          actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
        },
      },
      states: {
        // Waiting for the supervisor's decision (it answers at once).
        error: {
          on: {
            RETRY: {
              target: "backoff",
              actions: {
                type: "delay",
                params: ({ event }) => ({ delayMs: event.delayMs, reason: event.reason }),
              },
            },
            RETRY_LATER: {
              target: "crashed.retrying",
              actions: {
                type: "delay",
                params: ({ event }) => ({ delayMs: event.delayMs, reason: event.reason }),
              },
            },
            GIVE_UP: {
              target: "crashed",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
            STAND_DOWN: {
              target: "#lifecycle.stopped",
              actions: { type: "because", params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        backoff: {
          invoke: {
            src: "wait",
            input: ({ context }) => ({ delayMs: context.delayMs }),
            onDone: {
              target: "#lifecycle.live.starting",
              actions: { type: "because", params: { reason: "backoff elapsed" } },
            },
          },
        },
        crashed: {
          initial: "gaveUp",
          states: {
            gaveUp: {},
            // on_exhausted: retry — down for max_backoff_seconds, then one more attempt.
            retrying: {
              invoke: {
                src: "wait",
                input: ({ context }) => ({ delayMs: context.delayMs }),
                onDone: {
                  target: "#lifecycle.live.starting",
                  actions: {
                    type: "because",
                    params: { reason: "retrying after restart intensity was exceeded" },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
})

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export type LifecycleMachine = typeof lifecycleMachine

const view = (
  state: LifecycleState,
  readiness?: Readiness,
  stopIntent?: StopIntent,
  retrying = false,
): PublicState => Object.freeze({ state, readiness, stopIntent, retrying })

/**
 * Every view there is, made once: an instance's current view is one of these (no object of its
 * own, none made per transition).
 */
const views = {
  plain: Object.fromEntries(lifecycleStates.map((state) => [state, view(state)])) as Record<
    LifecycleState,
    PublicState
  >,
  running: { ready: view("running", "ready"), unready: view("running", "unready") } as Record<
    Readiness,
    PublicState
  >,
  stopping: Object.fromEntries(
    (["toStopped", "toRestart", "toFail", "toCrash", "toShutdown"] as const).map((intent) => [
      intent,
      view("stopping", undefined, intent),
    ]),
  ) as Record<StopIntent, PublicState>,
  retrying: view("crashed", undefined, undefined, true),
}

export const publicState = (value: unknown): PublicState => {
  if (typeof value === "string") return views.plain[value as LifecycleState]
  const v = value as Record<string, unknown>
  if (v.live !== undefined) {
    const live = v.live
    if (typeof live === "string") return views.plain[live as LifecycleState]
    return views.running[(live as { running: Readiness }).running]
  }
  if (v.stopping !== undefined) return views.stopping[v.stopping as StopIntent]
  const down = v.down
  if (typeof down === "string") return views.plain[down as LifecycleState]
  return (down as { crashed: string }).crashed === "retrying" ? views.retrying : views.plain.crashed
}

/** The top-level state name of a snapshot value (`{ live: { running: "ready" } }` → "running"). */
export const topState = (value: unknown): LifecycleState => publicState(value).state

export const readinessOf = (value: unknown): Readiness | undefined => publicState(value).readiness
