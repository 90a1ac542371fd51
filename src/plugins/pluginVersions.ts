// The work the plugin machine (src/actors/plugin.machine.ts) asks the host for, on one plugin's
// slot: set a version up beside the live one (staged, not visible), swap it in synchronously,
// tear the live one down, and retire a replaced or crashed version once its calls are done.
// pluginHost.ts wires these to each slot's machine and owns the order of things.
import type { SetUpInput } from "../actors/plugin.machine.ts"
import type { EventBus } from "../runtime/eventBus.ts"
import { isPluginError, type PluginError, pluginError } from "./errors.ts"
import type { PluginEnvironment } from "./pluginContext.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import { loadDefinition } from "./pluginModule.ts"
import { decodeConfig, setUpInstance } from "./pluginSetup.ts"
import type { Slot } from "./pluginSlot.ts"
import type { PluginDefinition, PluginStatus } from "./types.ts"

/** What the work needs of the host. */
export interface VersionWork {
  readonly bus: EventBus
  readonly env: PluginEnvironment
  readonly setupTimeoutMs: number
  readonly drainTimeoutMs: number
  readonly maxReloads: number
  /** The host is stopping: nothing new goes live. */
  readonly stopping: () => boolean
  /** Another plugin's status (for `dependsOn`). */
  readonly statusOf: (name: string) => PluginStatus | undefined
  /** A version of `slot` went live / nothing of it serves any more (stop order). */
  readonly wentLive: (slot: Slot) => void
  readonly wentDark: (slot: Slot) => void
  /** Versions still finishing their calls; the host waits for them when it stops. */
  readonly retiring: Set<Promise<void>>
}

export const publishFailed = (bus: EventBus, slot: Slot, error: PluginError): void => {
  bus.publish({
    type: "plugin.failed",
    plugin: slot.name,
    version: slot.version,
    code: error.code,
    error: error.message,
  })
}

/** Decode the config, check dependencies, run setup (bounded); a live-ready instance or why not. */
const instantiate = async (
  work: VersionWork,
  definition: PluginDefinition,
  rawConfig: unknown,
  configAt?: ReadonlyArray<string | number>,
): Promise<PluginInstance | PluginError> => {
  const name = definition.name
  const config = decodeConfig(definition, rawConfig, configAt)
  if (isPluginError(config)) return config
  for (const dep of definition.dependsOn ?? []) {
    const status = work.statusOf(dep)
    if (status?.status !== "running")
      return pluginError(
        "PLUGIN_DEPENDENCY",
        name,
        `plugin "${name}" depends on "${dep}", which is ${status ? `${status.status}${status.error ? ` (${status.error})` : ""}` : "not loaded"}`,
      )
  }
  return setUpInstance(definition, config.value, work.env, work.setupTimeoutMs)
}

/** Set a version up beside the live one (staged, not visible); rejects with why not. */
export const setUpVersion = async (
  work: VersionWork,
  slot: Slot,
  plan: SetUpInput,
): Promise<{ version: string }> => {
  const failed = (error: PluginError): never => {
    slot.lastError = error
    if (slot.current)
      work.bus.publish({
        type: "plugin.reload-failed",
        plugin: slot.name,
        version: slot.current.version,
        code: error.code,
        error: error.message,
      })
    else publishFailed(work.bus, slot, error)
    throw error
  }
  if (plan.reimport && slot.imports > work.maxReloads)
    failed(
      pluginError(
        "PLUGIN_RELOAD_LIMIT",
        slot.name,
        `plugin "${slot.name}" was reloaded ${slot.imports - 1} times; every reload keeps one module instance ` +
          `in memory (ESM cannot unload modules), so SAM stops hot-reloading it after ${work.maxReloads}. ` +
          "Restart SAM to load the new version",
      ),
    )
  let definition = slot.definition
  if (plan.reimport || !definition) {
    slot.imports++
    const loaded = await loadDefinition(slot.source.entry, slot.source.label)
    if (isPluginError(loaded)) return failed(loaded)
    if (slot.definition && loaded.name !== slot.name)
      failed(
        pluginError(
          "PLUGIN_INVALID",
          slot.name,
          `${slot.source.label} renamed its plugin from "${slot.name}" to "${loaded.name}"; a rename takes effect when SAM restarts`,
        ),
      )
    definition = loaded
    // The file as it is now is what a later setup without a re-import (a reconcile, a config
    // change) runs, even when this one fails: never an older version from the module cache.
    slot.definition = loaded
    slot.version = loaded.version
  }
  const config = plan.config === undefined ? slot.source.config : plan.config.value
  if (!slot.current) {
    slot.name = definition.name
    work.bus.publish({ type: "plugin.loading", plugin: slot.name, source: slot.source.label })
  }
  const instance = await instantiate(work, definition, config, slot.source.configAt)
  if (isPluginError(instance)) return failed(instance)
  if (work.stopping()) {
    await instance.close()
    return failed(pluginError("PLUGIN_CLOSED", slot.name, "SAM is stopping"))
  }
  slot.lastError = undefined
  slot.staged = { instance, definition, config }
  return { version: instance.version }
}

/** Let a replaced or crashed version finish what it started, then close it. */
export const retire = (work: VersionWork, old: PluginInstance): Promise<void> => {
  const done = (async () => {
    // One macrotask turn lets calls already routed to the old version (their dispatch pending
    // in microtasks) start, so the drain counts them.
    await new Promise<void>((resolve) => setImmediate(resolve))
    await old.drain(work.drainTimeoutMs)
    await old.close()
  })()
  work.retiring.add(done)
  return done.finally(() => work.retiring.delete(done))
}

/**
 * The swap, run by the machine's transition: synchronous, so every request and event sees either
 * the old or the new version, never neither.
 */
export const swapIn = (work: VersionWork, slot: Slot): void => {
  const staged = slot.staged
  if (!staged) return
  slot.staged = undefined
  const old = slot.current
  staged.instance.goLive()
  old?.goDark()
  slot.current = staged.instance
  slot.definition = staged.definition
  slot.source = { ...slot.source, config: staged.config }
  slot.version = staged.instance.version
  slot.liveSince = Date.now()
  work.wentLive(slot)
  work.bus.publish(
    old
      ? { type: "plugin.reloaded", plugin: slot.name, from: old.version, to: staged.instance.version }
      : { type: "plugin.loaded", plugin: slot.name, version: staged.instance.version },
  )
  if (old) void retire(work, old)
}

/** Withdraw the live version (and one staged but overtaken by the unload), drain, close. */
export const tearDown = async (work: VersionWork, slot: Slot): Promise<void> => {
  const instance = slot.current
  const staged = slot.staged
  slot.current = undefined
  slot.staged = undefined
  work.wentDark(slot)
  await staged?.instance.close()
  if (!instance) return
  instance.goDark()
  await instance.drain(work.drainTimeoutMs)
  await instance.close()
  work.bus.publish({ type: "plugin.stopped", plugin: slot.name, version: instance.version })
}
