// The host's record of one plugin across its versions: where it comes from, which version is
// live, its status, how often it was re-imported, and the queue its operations run on.
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { basename, dirname, extname } from "node:path"
import type { WatchHandle } from "../runtime/fileWatcher.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import type { PluginSource } from "./pluginSources.ts"
import type { PluginDefinition, PluginStatus, PluginStatusName } from "./types.ts"

export interface Slot {
  source: PluginSource
  name: string
  version: string
  definition: PluginDefinition | undefined
  current: PluginInstance | undefined
  status: PluginStatusName
  error: string | undefined
  imports: number
  hashes: Map<string, string>
  watcher: WatchHandle | undefined
  /** Operations on one plugin run one at a time. */
  queue: Promise<unknown>
  reloadQueued: boolean
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

export const newSlot = (source: PluginSource): Slot => {
  return {
    source,
    name: provisionalName(source),
    version: "",
    definition: undefined,
    current: undefined,
    status: source.enabled ? "loading" : "stopped",
    error: undefined,
    imports: 0,
    hashes: new Map(),
    watcher: undefined,
    queue: Promise.resolve(),
    reloadQueued: false,
  }
}

export const statusOf = (slot: Slot): PluginStatus => {
  return {
    name: slot.name,
    version: slot.version,
    status: slot.status,
    ...(slot.error === undefined ? {} : { error: slot.error }),
    source: slot.source.label,
    reloads: Math.max(0, slot.imports - 1),
    dependsOn: slot.definition?.dependsOn ?? [],
  }
}
