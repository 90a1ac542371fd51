// A plugin's status as surfaces name it (plugin.machine.ts folds its states into these) and the
// events of its machine, apart from the machine so that the plugin API's types (src/plugins/types.ts) reach none of xstate's.

/** The status names `GET /api/plugins` shows (the machine's nesting folded away). */
export type PluginStatusName = "loading" | "running" | "failed" | "stopped"

export type CommandEvent =
  /** Set the plugin up (enabled, or its turn in dependency order came). */
  | { type: "LOAD"; config?: { readonly value: unknown } | undefined }
  /** Set a new version up beside the live one and swap it in (an edit, a config change). */
  | { type: "RELOAD"; reimport?: boolean; config?: { readonly value: unknown } | undefined }
  /** Withdraw the live version, let its calls finish, close it. */
  | { type: "UNLOAD" }

export type FactEvent =
  /** It cannot be set up at all (not importable, a name conflict, a blocked dependency). */
  | { type: "FAILED"; error: string }
  /** A hook of the live version threw; the host has already withdrawn that version. */
  | { type: "CRASHED"; error: string }
  /** Raised from the set-up work: a version is set up (it goes live with the transition). */
  | { type: "SET_UP"; version: string }
  /** Raised from the set-up work: the new version did not set up (the old one, if any, serves). */
  | { type: "SETUP_FAILED"; error: string }
  /** Raised from the tear-down work: nothing of the plugin runs any more. */
  | { type: "TORN_DOWN" }

/** The host's answer to a crash (its restart decision). */
export type DecisionEvent =
  | { type: "RETRY"; delayMs: number; reason: string }
  | { type: "GIVE_UP"; reason: string }
  | { type: "STAND_DOWN"; reason: string }

export type PluginEvent = CommandEvent | FactEvent | DecisionEvent
