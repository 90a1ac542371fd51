// The lifecycle of one plugin (across its versions) as a pure XState machine: no I/O here.
// The machine owns intent: load, reload and unload are events every state answers, and what a
// plugin does once the work in progress is done is a sub-state (`loading.thenUnload`), not a
// flag. The plugin host (src/plugins/pluginHost.ts) provides the work (set a version up, swap it
// in, tear the live one down), reports facts (a hook crashed) and answers `failed.deciding`.
import { assign, fromPromise, raise, setup } from "xstate"

import type { PluginEvent, PluginStatusName } from "./pluginTypes.ts"

export type { CommandEvent, DecisionEvent, FactEvent, PluginEvent, PluginStatusName } from "./pluginTypes.ts"

export interface PluginContext {
  readonly name: string
  /** The version serving, or the last one known. */
  readonly version: string
  /** Why it failed, or why the last reload was refused while the old version keeps serving. */
  readonly error: string | undefined
  /** The next set-up imports the module again (an edit) rather than reusing the definition. */
  readonly reimport: boolean
  /** The config the next set-up uses (undefined: keep the current one). */
  readonly config: { readonly value: unknown } | undefined
  /** How long the backoff before a restart lasts. */
  readonly delayMs: number
}

export interface SetUpInput {
  readonly name: string
  readonly reimport: boolean
  readonly config: { readonly value: unknown } | undefined
}

/** Placeholders: the host replaces these with its work via `.provide`. */
const setUpPlaceholder = fromPromise<{ version: string }, SetUpInput>(async () => ({ version: "" }))
const tearDownPlaceholder = fromPromise<void, { name: string }>(async () => {})

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const reloadPlan = {
  type: "plan",
  params: ({
    event,
  }: {
    event: { reimport?: boolean; config?: { readonly value: unknown } | undefined }
  }) => ({
    reimport: event.reimport ?? true,
    config: event.config,
  }),
} as const

const loadPlan = {
  type: "plan",
  params: ({ event }: { event: { config?: { readonly value: unknown } | undefined } }) => ({
    reimport: false,
    config: event.config,
  }),
} as const

export const pluginMachine = setup({
  types: {
    context: {} as PluginContext,
    events: {} as PluginEvent,
    input: {} as { name: string },
  },
  actors: {
    // Sets a version up beside the live one, not yet visible: resolves with its version, or rejects.
    setUp: setUpPlaceholder,
    // Withdraws the live version, drains it and closes it.
    tearDown: tearDownPlaceholder,
  },
  actions: {
    /** What the next set-up does: re-import or not, with which config. */
    plan: assign((_, params: { reimport: boolean; config: { readonly value: unknown } | undefined }) => ({
      reimport: params.reimport,
      config: params.config,
    })),
    live: assign((_, params: { version: string }) => ({ version: params.version, error: undefined })),
    /** The version just set up replaces the live one, in this very transition (the host's). */
    swapIn: () => {},
    /** Ask the host for its restart decision; it answers with RETRY, GIVE_UP or STAND_DOWN. */
    decide: () => {},
    failed: assign((_, params: { error: string }) => ({ error: params.error })),
    /** A refused reload: the old version keeps serving and says why. */
    refused: assign(({ context }, params: { error: string }) => ({
      error: `reload failed, still serving ${context.version}: ${params.error}`,
    })),
    /** The host's decision on a crash, added to why it failed. */
    decided: assign(({ context }, params: { reason: string; delayMs?: number }) => ({
      error: params.reason === "" ? context.error : `${context.error}; ${params.reason}`,
      delayMs: params.delayMs ?? 0,
    })),
    cleared: assign({ error: undefined }),
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
  },
}).createMachine({
  id: "plugin",
  initial: "pending",
  context: ({ input }) => ({
    name: input.name,
    version: "",
    error: undefined,
    reimport: false,
    config: undefined,
    delayMs: 0,
  }),
  states: {
    // Discovered; waiting for its turn (imports, dependency order).
    pending: {
      on: {
        LOAD: { target: "loading", actions: loadPlan },
        UNLOAD: "unloaded",
        FAILED: {
          target: "failed",
          actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },

    // Setting a version up while none serves; the sub-state says where it goes once done.
    loading: {
      initial: "thenServe",
      invoke: {
        src: "setUp",
        input: ({ context }) => ({ name: context.name, reimport: context.reimport, config: context.config }),
        onDone: {
          actions: raise(({ event }) => ({ type: "SET_UP" as const, version: event.output.version })),
        },
        onError: {
          actions: raise(({ event }) => ({ type: "SETUP_FAILED" as const, error: errorText(event.error) })),
        },
      },
      on: {
        RELOAD: { target: ".thenReload", actions: reloadPlan },
        UNLOAD: ".thenUnload",
      },
      states: {
        thenServe: {
          on: {
            SET_UP: {
              target: "#plugin.active",
              actions: [{ type: "live", params: ({ event }) => ({ version: event.version }) }, "swapIn"],
            },
            SETUP_FAILED: {
              target: "#plugin.failed",
              actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
            },
          },
        },
        // An edit arrived meanwhile: set that one up next, whatever this set-up does.
        thenReload: {
          on: {
            SET_UP: {
              target: "#plugin.active.reloading",
              actions: [{ type: "live", params: ({ event }) => ({ version: event.version }) }, "swapIn"],
            },
            SETUP_FAILED: { target: "#plugin.loading", reenter: true },
          },
        },
        thenUnload: {
          on: {
            SET_UP: {
              target: "#plugin.unloading",
              actions: { type: "live", params: ({ event }) => ({ version: event.version }) },
            },
            SETUP_FAILED: { target: "#plugin.unloaded", actions: "cleared" },
            LOAD: "thenServe",
            RELOAD: {},
            UNLOAD: {},
          },
        },
      },
    },

    // A version serves; a reload sets the next one up beside it and swaps it in.
    active: {
      initial: "serving",
      states: {
        serving: {
          on: {
            RELOAD: { target: "reloading", actions: reloadPlan },
            UNLOAD: "#plugin.unloading",
            CRASHED: {
              target: "#plugin.failed.deciding",
              actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
            },
          },
        },
        reloading: {
          initial: "thenServe",
          invoke: {
            src: "setUp",
            input: ({ context }) => ({
              name: context.name,
              reimport: context.reimport,
              config: context.config,
            }),
            onDone: {
              actions: raise(({ event }) => ({ type: "SET_UP" as const, version: event.output.version })),
            },
            onError: {
              actions: raise(({ event }) => ({
                type: "SETUP_FAILED" as const,
                error: errorText(event.error),
              })),
            },
          },
          on: {
            RELOAD: { target: ".thenReload", actions: reloadPlan },
            UNLOAD: ".thenUnload",
          },
          states: {
            thenServe: {
              on: {
                SET_UP: {
                  target: "#plugin.active.serving",
                  actions: [{ type: "live", params: ({ event }) => ({ version: event.version }) }, "swapIn"],
                },
                SETUP_FAILED: {
                  target: "#plugin.active.serving",
                  actions: { type: "refused", params: ({ event }) => ({ error: event.error }) },
                },
                CRASHED: {
                  target: "orphaned",
                  actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
            // A newer edit arrived meanwhile: set it up next, whatever this set-up does.
            thenReload: {
              on: {
                SET_UP: {
                  target: "#plugin.active.reloading",
                  reenter: true,
                  actions: [{ type: "live", params: ({ event }) => ({ version: event.version }) }, "swapIn"],
                },
                SETUP_FAILED: { target: "#plugin.active.reloading", reenter: true },
              },
            },
            thenUnload: {
              on: {
                SET_UP: {
                  target: "#plugin.unloading",
                  actions: { type: "live", params: ({ event }) => ({ version: event.version }) },
                },
                SETUP_FAILED: "#plugin.unloading",
                LOAD: "thenServe",
                RELOAD: {},
                UNLOAD: {},
              },
            },
            // The old version crashed while its successor sets up: the successor takes over, or
            // the crash is decided on like any other.
            orphaned: {
              on: {
                SET_UP: {
                  target: "#plugin.active.serving",
                  actions: [{ type: "live", params: ({ event }) => ({ version: event.version }) }, "swapIn"],
                },
                SETUP_FAILED: "#plugin.failed.deciding",
              },
            },
          },
        },
      },
    },

    // The live version is withdrawn and drained, then closed.
    unloading: {
      initial: "thenStay",
      invoke: {
        src: "tearDown",
        input: ({ context }) => ({ name: context.name }),
        onDone: { actions: raise({ type: "TORN_DOWN" as const }) },
        // The tear-down is written not to fail; if it did, nothing serves any more either way.
        onError: { actions: raise({ type: "TORN_DOWN" as const }) },
      },
      states: {
        thenStay: {
          on: {
            TORN_DOWN: { target: "#plugin.unloaded", actions: "cleared" },
            LOAD: { target: "thenLoad", actions: loadPlan },
          },
        },
        thenLoad: {
          on: {
            TORN_DOWN: { target: "#plugin.loading", actions: "cleared" },
            UNLOAD: "thenStay",
          },
        },
      },
    },

    // Nothing runs; a stopped plugin stays stopped until it is loaded again (edits do not wake it).
    unloaded: {
      on: {
        LOAD: { target: "loading", actions: loadPlan },
        FAILED: {
          target: "failed",
          actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },

    // Nothing runs; a load or an edit sets it up again, an unload settles it.
    failed: {
      initial: "awaitingFix",
      on: {
        LOAD: { target: "loading", actions: loadPlan },
        RELOAD: { target: "loading", actions: reloadPlan },
        UNLOAD: { target: "unloaded", actions: "cleared" },
      },
      states: {
        // Setup, import or config failed: the same code would fail the same way.
        awaitingFix: {
          on: {
            FAILED: {
              target: "awaitingFix",
              actions: { type: "failed", params: ({ event }) => ({ error: event.error }) },
            },
          },
        },
        // A hook crashed: the host answers at once with its restart decision.
        deciding: {
          entry: "decide",
          on: {
            RETRY: {
              target: "backoff",
              actions: {
                type: "decided",
                params: ({ event }) => ({ reason: event.reason, delayMs: event.delayMs }),
              },
            },
            GIVE_UP: {
              target: "crashed",
              actions: { type: "decided", params: ({ event }) => ({ reason: event.reason }) },
            },
            STAND_DOWN: {
              target: "awaitingFix",
              actions: { type: "decided", params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        // Set up again (same code, same config) once the delay is over.
        backoff: {
          after: {
            backoff: {
              target: "#plugin.loading",
              actions: { type: "plan", params: { reimport: false, config: undefined } },
            },
          },
        },
        // Past its restart intensity: down until a fixed version is saved.
        crashed: {},
      },
    },
  },
})

export type PluginMachine = typeof pluginMachine

/** The status a snapshot value shows (`{ active: "serving" }` → "running"). */
export const pluginStatus = (value: unknown): PluginStatusName => {
  const top = typeof value === "string" ? value : Object.keys(value as object)[0]
  switch (top) {
    case "pending":
    case "loading":
      return "loading"
    case "active":
      return "running"
    case "failed":
      return "failed"
    default:
      return "stopped"
  }
}

/** Whether a set-up or tear-down is in progress (what `reload()` and `unload()` wait out). */
export const pluginBusy = (value: unknown): boolean => {
  if (typeof value === "string") return false
  const v = value as { loading?: unknown; unloading?: unknown; active?: unknown }
  return (
    v.loading !== undefined || v.unloading !== undefined || (v.active !== undefined && v.active !== "serving")
  )
}
