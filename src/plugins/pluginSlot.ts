// The host's record of one plugin across its versions: where it comes from, its lifecycle machine
// (src/actors/plugin.machine.ts: the status and the error come from it), the version live and the
// one staged beside it, how often it was re-imported, and its restart window.
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { basename, dirname, extname } from "node:path"
import type { Actor } from "xstate"
import { type PluginMachine, pluginStatus } from "../actors/plugin.machine.ts"
import type { WatchHandle } from "../runtime/fileWatcher.ts"
import type { InstanceWindow } from "../runtime/supervisor/decide.ts"
import type { PluginError } from "./errors.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import type { PluginSource } from "./pluginSources.ts"
import type { PluginDefinition, PluginStatus } from "./types.ts"

/** A version set up and not live yet, with what it was set up from. */
export interface Staged {
  readonly instance: PluginInstance
  readonly definition: PluginDefinition
  readonly config: unknown
}

export interface Slot {
  source: PluginSource
  name: string
  version: string
  definition: PluginDefinition | undefined
  /** The version serving, if any. */
  current: PluginInstance | undefined
  /** Set up and waiting for the machine to swap it in (or tear it down). */
  staged: Staged | undefined
  /** The plugin's lifecycle; every change of state goes through it. */
  readonly actor: Actor<PluginMachine>
  /** Why the last set-up failed (undefined after one succeeded), for reload outcomes. */
  lastError: PluginError | undefined
  imports: number
  hashes: Map<string, string>
  watcher: WatchHandle | undefined
  /** Restarts after crashes within the window, and when the live version went live. */
  window: InstanceWindow | undefined
  liveSince: number | undefined
}

export const fileHash = (path: string): string => {
  try {
    return createHash("sha1").update(readFileSync(path)).digest("hex")
  } catch {
    return "missing"
  }
}

/** A name for a plugin before its module says its real one. */
export const provisionalName = (source: PluginSource): string => {
  const file = basename(source.entry, extname(source.entry))
  return file === "index" ? basename(dirname(source.entry)) : file
}

/** A slot for `source` named `name`; `machineFor` makes its machine (reaching the slot lazily). */
export const newSlot = (
  source: PluginSource,
  name: string,
  machineFor: (slot: () => Slot, name: string) => Actor<PluginMachine>,
): Slot => {
  const slot: Slot = {
    source,
    name,
    version: "",
    definition: undefined,
    current: undefined,
    staged: undefined,
    actor: machineFor(() => slot, name),
    lastError: undefined,
    imports: 0,
    hashes: new Map(),
    watcher: undefined,
    window: undefined,
    liveSince: undefined,
  }
  return slot
}

export const statusOf = (slot: Slot): PluginStatus => {
  const snapshot = slot.actor.getSnapshot()
  const error = snapshot.context.error
  return {
    name: slot.name,
    // The version serving; without one, the last one tried (what its error is about).
    version: slot.current?.version ?? slot.version,
    status: pluginStatus(snapshot.value),
    ...(error === undefined ? {} : { error }),
    source: slot.source.label,
    reloads: Math.max(0, slot.imports - 1),
    dependsOn: slot.definition?.dependsOn ?? [],
  }
}
