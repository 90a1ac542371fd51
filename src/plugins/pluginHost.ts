// The plugin host: loads plugins (config entries and the project's plugins/ folder) in
// dependency order, runs each through its lifecycle machine (src/actors/plugin.machine.ts, which
// decides; the host does the work it asks for), isolates their failures from SAM, restarts
// crashed ones by the supervisor's rules (crashDecision.ts), and hot-reloads them: a new version
// is set up beside the old one, swapped in atomically only if its setup succeeded, and the old
// one is drained and disposed.
import { existsSync, watch } from "node:fs"
import { dirname } from "node:path"
import { type Actor, createActor, fromPromise, waitFor } from "xstate"
import {
  type DecisionEvent,
  type PluginEvent,
  type PluginMachine,
  pluginBusy,
  pluginMachine,
  type SetUpInput,
} from "../actors/plugin.machine.ts"
import { isDirectory, watchFiles } from "../runtime/fileWatcher.ts"
import type { Sam } from "../runtime/sam.ts"
import type { RestartSpec } from "../runtime/unitSpec.ts"
import { decideCrash, type PluginRestartPolicy, restartSpecOf } from "./crashDecision.ts"
import { Diagnostics } from "./diagnostics.ts"
import { describe, isPluginError, type PluginError, pluginError } from "./errors.ts"
import { GatewayRegistry } from "./gatewayRegistry.ts"
import type { PluginEnvironment } from "./pluginContext.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import { loadDefinition } from "./pluginModule.ts"
import { orderPlugins } from "./pluginOrder.ts"
import { fileHash, newSlot, provisionalName, type Slot, statusOf } from "./pluginSlot.ts"
import {
  defaultPluginsDir,
  type PluginEntry,
  type PluginSource,
  resolvePluginSources,
} from "./pluginSources.ts"
import { pluginsDown } from "./pluginsDown.ts"
import { publishFailed, retire, setUpVersion, swapIn, tearDown, type VersionWork } from "./pluginVersions.ts"
import type { PluginStatus } from "./types.ts"

export type { PluginRestartPolicy }

export interface PluginHostOptions {
  readonly sam: Pick<Sam, "bus" | "logs" | "capabilities" | "probes" | "status" | "invoke" | "addFinalizer">
  /** The config's `plugins:` entries. */
  readonly entries?: ReadonlyArray<PluginEntry>
  /** Where relative entry paths resolve (the config file's folder); default the working directory. */
  readonly baseDir?: string
  /** The project's plugin folder (default `<baseDir>/plugins`); false for none. */
  readonly pluginsDir?: string | false
  readonly gateway?: GatewayRegistry
  readonly diagnostics?: Diagnostics
  /** A setup still pending after this long fails the plugin (default 10 s). */
  readonly setupTimeoutMs?: number
  /** How long a replaced version may finish its calls in flight before it is closed (default 10 s). */
  readonly drainTimeoutMs?: number
  readonly cleanupTimeoutMs?: number
  /** Reload plugins when their files change (default true). */
  readonly watch?: boolean
  readonly debounceMs?: number
  /**
   * Re-imports allowed per plugin. ESM cannot unload a module, so every reload keeps one more
   * module instance in memory; past this SAM stops hot-reloading the plugin (default 50).
   */
  readonly maxReloads?: number
  /** Restarts of a plugin whose hooks throw (default 3 in 60 s, backoff from 1 s); false for none. */
  readonly restart?: PluginRestartPolicy | false
}

export type ReloadOutcome =
  | { readonly ok: true; readonly plugin: string; readonly version: string }
  | { readonly ok: false; readonly plugin: string; readonly error: PluginError }

export class PluginHost {
  readonly gateway: GatewayRegistry
  readonly diagnostics: Diagnostics
  /** What `POST /api/config/reload` runs; set by the config reloader. */
  reloadConfig: (() => Promise<{ readonly ok: boolean }>) | undefined

  private readonly sam: PluginHostOptions["sam"]
  private readonly options: PluginHostOptions
  private readonly baseDir: string
  private readonly pluginsDir: string | undefined
  private readonly env: PluginEnvironment
  private readonly restartPolicy: RestartSpec
  private slots: Slot[] = []
  /** Names in the order they went live, for stopping in reverse. */
  private liveOrder: string[] = []
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private bridgeOff: (() => void) | undefined
  private explainOff: (() => void) | undefined
  /** Replaced or crashed versions still finishing their calls. */
  private readonly retiring = new Set<Promise<void>>()
  private readonly work: VersionWork
  /** The config's `plugins:` list in effect (the last reconciled). */
  private entries: ReadonlyArray<PluginEntry>
  private dirWatcher: { close(): void } | undefined

  constructor(options: PluginHostOptions) {
    this.options = options
    this.entries = options.entries ?? []
    this.sam = options.sam
    this.restartPolicy = restartSpecOf(options.restart ?? {})
    this.baseDir = options.baseDir ?? process.cwd()
    this.pluginsDir =
      options.pluginsDir === false ? undefined : (options.pluginsDir ?? defaultPluginsDir(this.baseDir))
    this.gateway = options.gateway ?? new GatewayRegistry()
    this.diagnostics = options.diagnostics ?? new Diagnostics()
    this.env = {
      sam: this.sam,
      gateway: this.gateway,
      diagnostics: this.diagnostics,
      probeOwners: new Map(),
      capabilityOwners: new Map(),
      onHookFailure: (instance, where, error) => this.hookFailed(instance, where, error),
      cleanupTimeoutMs: options.cleanupTimeoutMs ?? 5_000,
    }
    this.work = {
      bus: this.sam.bus,
      env: this.env,
      setupTimeoutMs: options.setupTimeoutMs ?? 10_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
      maxReloads: options.maxReloads ?? 50,
      stopping: () => this.stopping !== undefined,
      statusOf: (name) => this.get(name),
      wentLive: (slot) => {
        if (!this.liveOrder.includes(slot.name)) this.liveOrder.push(slot.name)
      },
      wentDark: (slot) => {
        this.liveOrder = this.liveOrder.filter((n) => n !== slot.name)
      },
      retiring: this.retiring,
    }
  }

  /** Load every configured and discovered plugin; resolves when each is running or failed. */
  start(): Promise<void> {
    if (this.stopping)
      return Promise.reject(pluginError("PLUGIN_CLOSED", "(host)", "the plugin host is stopped"))
    this.starting ??= (async () => {
      this.bridgeOff = this.diagnostics.bridge(this.sam.bus, this.sam.logs)
      this.explainOff = this.sam.capabilities.explainMissing((capability) =>
        pluginsDown(this.env.capabilityOwners.get(capability), (name) => this.get(name)),
      )
      this.sam.addFinalizer(() => this.stop())
      const { sources, errors } = this.resolve(this.entries)
      for (const error of errors) this.addUnresolved(error)
      await this.loadSources(sources)
      this.watchPluginsDir()
    })()
    return this.starting
  }

  /** Unload every plugin (dependents first), stop watching and restarting. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // A start that failed has nothing more to undo than what the slots show.
      await Promise.allSettled([this.starting])
      for (const slot of this.slots) slot.watcher?.close()
      this.dirWatcher?.close()
      for (const name of [...this.liveOrder].reverse()) await this.unload(name)
      // Set-ups still running see `stopping` and close what they made; one that finished just
      // before went live after the loop above and is unloaded now.
      for (const slot of this.slots) {
        await this.quiet(slot)
        if (slot.current) await this.unload(slot.name)
      }
      await Promise.all(this.retiring)
      for (const slot of this.slots) slot.actor.stop()
      this.bridgeOff?.()
      this.explainOff?.()
    })()
    return this.stopping
  }

  list(): ReadonlyArray<PluginStatus> {
    return this.slots.map((s) => statusOf(s))
  }

  get(name: string): PluginStatus | undefined {
    const slot = this.slot(name)
    return slot && statusOf(slot)
  }

  /** The version currently serving `name`, if one does (the control API serves its routes). */
  liveInstance(name: string): PluginInstance | undefined {
    return this.slot(name)?.current
  }

  /**
   * Load the plugin's module again and swap the new version in if its setup succeeds; a failed
   * attempt leaves the old version serving. `config` replaces the plugin's config. A stopped
   * plugin is loaded.
   */
  async reload(
    name: string,
    options: { readonly config?: unknown; readonly reimport?: boolean } = {},
  ): Promise<ReloadOutcome> {
    const slot = this.slot(name)
    if (!slot)
      return { ok: false, plugin: name, error: pluginError("PLUGIN_NOT_FOUND", name, `no plugin "${name}"`) }
    const config = options.config === undefined ? undefined : { value: options.config }
    const reload: PluginEvent = { type: "RELOAD", reimport: options.reimport ?? true, config }
    slot.lastError = undefined
    slot.actor.send(slot.actor.getSnapshot().can(reload) ? reload : { type: "LOAD", config })
    await this.quiet(slot)
    const status = statusOf(slot)
    if (slot.lastError) return { ok: false, plugin: slot.name, error: slot.lastError }
    if (status.status !== "running")
      return {
        ok: false,
        plugin: slot.name,
        error: pluginError("PLUGIN_CLOSED", slot.name, `plugin "${slot.name}" is ${status.status}`),
      }
    return { ok: true, plugin: slot.name, version: status.version }
  }

  /** Stop a plugin (and the plugins depending on it first); it stays listed as stopped. */
  async unload(name: string): Promise<void> {
    const slot = this.slot(name)
    if (!slot) return
    for (const dependent of this.slots)
      if (dependent.current && dependent.definition?.dependsOn?.includes(name))
        await this.unload(dependent.name)
    slot.actor.send({ type: "UNLOAD" })
    await this.quiet(slot)
  }

  /**
   * Apply a changed `plugins:` list (config hot reload), and the plugins/ folder as it is now:
   * new entries load, removed ones unload, entries whose `config` or `enabled` changed are set up
   * again with the new settings. Resolves with the names of the plugins it loaded, unloaded or set
   * up again (for the reload's report).
   */
  async reconcile(entries: ReadonlyArray<PluginEntry>): Promise<ReadonlyArray<string>> {
    this.entries = entries
    const touched: string[] = []
    const { sources, errors } = this.resolve(entries)
    const byEntry = new Map(sources.map((s) => [s.entry, s]))
    for (const slot of [...this.slots]) {
      if (slot.source.entry === "" || !byEntry.has(slot.source.entry)) {
        touched.push(slot.name)
        await this.unload(slot.name)
        slot.watcher?.close()
        slot.actor.stop()
        this.slots = this.slots.filter((s) => s !== slot)
      }
    }
    const added: PluginSource[] = []
    for (const source of sources) {
      const slot = this.slots.find((s) => s.source.entry === source.entry)
      if (!slot) {
        added.push(source)
        continue
      }
      const before = slot.source
      slot.source = source
      const status = statusOf(slot).status
      if (!source.enabled) {
        if (status !== "stopped") {
          touched.push(slot.name)
          await this.unload(slot.name)
        }
      } else if (
        !before.enabled ||
        status !== "running" ||
        JSON.stringify(before.config) !== JSON.stringify(source.config)
      ) {
        touched.push(slot.name)
        await this.reload(slot.name, { config: source.config, reimport: slot.definition === undefined })
      }
    }
    for (const error of errors) this.addUnresolved(error)
    const slotsBefore = new Set(this.slots)
    await this.loadSources(added)
    for (const slot of this.slots) if (!slotsBefore.has(slot)) touched.push(slot.name)
    return touched
  }

  /**
   * A file or folder added to (or removed from) plugins/ while SAM runs is loaded (or unloaded)
   * as a config reload would: through `reloadConfig` when there is one, so the two never overlap.
   */
  private watchPluginsDir(known = this.discovered()): void {
    const dir = this.pluginsDir
    if (this.options.watch === false || dir === undefined || this.stopping) return
    const failed = (error: unknown) =>
      this.sam.bus.publish({ type: "plugin.watch-failed", plugin: "(plugins/)", error: describe(error) })
    let timer: NodeJS.Timeout | undefined
    const debounced = (then: () => void) => () => {
      if (timer) clearTimeout(timer)
      timer = setTimeout(then, this.options.debounceMs ?? 50)
    }
    // No plugins/ yet: watch the folder it would be in until it appears, then watch it.
    const target = isDirectory(dir) ? dir : dirname(dir)
    if (!isDirectory(target)) return
    let seen = known
    const look = () => {
      timer = undefined
      if (this.stopping) return
      if (target !== dir) {
        if (!isDirectory(dir)) return
        this.dirWatcher?.close()
        this.watchPluginsDir("")
        return
      }
      const now = this.discovered()
      if (now === seen) return
      seen = now
      const reload = this.reloadConfig ?? (() => this.reconcile(this.entries))
      void reload().catch(failed)
    }
    // The folder's own entries only (not recursive: a folder plugin's files, node_modules
    // included, are its own watcher's), debounced like every watcher.
    const watcher = watch(target, debounced(look))
    watcher.on("error", failed)
    this.dirWatcher = {
      close: () => {
        if (timer) clearTimeout(timer)
        watcher.close()
      },
    }
    // Created (or filled, just after it appeared) between the check and the watch: look once now.
    if (target !== dir ? isDirectory(dir) : this.discovered() !== seen) debounced(look)()
  }

  /** The plugins/ folder's plugin entries as a comparable text (what is there, not what changed in it). */
  private discovered(): string {
    return this.resolve([])
      .sources.map((s) => s.entry)
      .sort()
      .join("\n")
  }

  // ---- loading ----

  private resolve(entries: ReadonlyArray<PluginEntry>) {
    return resolvePluginSources({
      entries,
      baseDir: this.baseDir,
      ...(this.pluginsDir === undefined ? {} : { pluginsDir: this.pluginsDir }),
    })
  }

  private async loadSources(sources: ReadonlyArray<PluginSource>): Promise<void> {
    const imported = await Promise.all(
      sources.map(async (source) => ({
        source,
        loaded: source.enabled ? await loadDefinition(source.entry, source.label) : undefined,
      })),
    )
    const fresh: Slot[] = []
    for (const { source, loaded } of imported) {
      const named = loaded !== undefined && !isPluginError(loaded) ? loaded.name : undefined
      const holder = named === undefined ? undefined : this.slots.find((s) => s.definition?.name === named)
      const slot = this.addSlot(source, named !== undefined && !holder ? named : provisionalName(source))
      fresh.push(slot)
      if (loaded === undefined) {
        slot.actor.send({ type: "UNLOAD" })
        continue
      }
      slot.imports = 1
      slot.hashes.set(source.entry, fileHash(source.entry))
      if (isPluginError(loaded)) {
        this.fail(slot, loaded)
        continue
      }
      slot.version = loaded.version
      if (holder) {
        this.fail(
          slot,
          pluginError(
            "PLUGIN_CONFLICT",
            loaded.name,
            `plugin name "${loaded.name}" is used by both ${holder.source.label} and ${source.label}; rename one`,
          ),
        )
        continue
      }
      slot.definition = loaded
    }
    const candidates = fresh.filter(
      (s) => s.definition !== undefined && s.actor.getSnapshot().matches("pending"),
    )
    const running = this.slots.filter((s) => s.current && s.definition)
    const { order, blocked } = orderPlugins(
      [...running, ...candidates].map((s) => ({ name: s.name, dependsOn: s.definition?.dependsOn ?? [] })),
    )
    for (const slot of candidates) {
      const why = blocked.get(slot.name)
      if (why) this.fail(slot, pluginError("PLUGIN_DEPENDENCY", slot.name, `plugin "${slot.name}" ${why}`))
    }
    for (const name of order) {
      const slot = candidates.find((s) => s.name === name)
      if (slot?.actor.getSnapshot().matches("pending")) {
        slot.actor.send({ type: "LOAD" })
        await this.quiet(slot)
      }
    }
    for (const slot of fresh) this.watch(slot)
  }

  // ---- the machine's work ----

  private addSlot(source: PluginSource, name: string): Slot {
    const slot = newSlot(source, name, (get, named) => this.machineFor(get, named))
    this.slots.push(slot)
    return slot
  }

  private machineFor(slot: () => Slot, name: string): Actor<PluginMachine> {
    const machine = pluginMachine.provide({
      actors: {
        setUp: fromPromise<{ version: string }, SetUpInput>(({ input }) =>
          setUpVersion(this.work, slot(), input),
        ),
        tearDown: fromPromise<void, { name: string }>(() => tearDown(this.work, slot())),
      },
      actions: {
        swapIn: () => swapIn(this.work, slot()),
        decide: ({ context, self }) => self.send(this.decide(slot(), context.error ?? "crashed")),
      },
    })
    return createActor(machine, { input: { name } }).start()
  }

  /** Resolves once no set-up or tear-down is in progress (at once when none is). */
  private async quiet(slot: Slot): Promise<void> {
    if (slot.actor.getSnapshot().status !== "active") return
    await waitFor(slot.actor, (s) => !pluginBusy(s.value)).catch((error: unknown) => {
      // Only a machine stopped meanwhile (host stop, a removed entry) ends the wait early.
      if (slot.actor.getSnapshot().status === "active") throw error
    })
  }

  private watch(slot: Slot): void {
    if (this.options.watch === false || slot.source.watch.length === 0 || slot.watcher || this.stopping)
      return
    slot.watcher = watchFiles(
      slot.source.watch,
      (paths) => {
        const unchanged = paths.every((p) => slot.hashes.get(p) === fileHash(p))
        const edit: PluginEvent = { type: "RELOAD", reimport: true }
        // A folder plugin whose entry was deleted is being removed: the folder's rescan drops it,
        // and importing the missing file first would only report a failure that is not one.
        const removed = slot.source.origin === "folder" && !existsSync(slot.source.entry)
        // An unloaded (disabled) plugin ignores edits until its config enables it again.
        if (unchanged || removed || this.stopping || !slot.actor.getSnapshot().can(edit)) return
        for (const p of paths) slot.hashes.set(p, fileHash(p))
        slot.actor.send(edit)
      },
      {
        ...(this.options.debounceMs === undefined ? {} : { debounceMs: this.options.debounceMs }),
        onError: (error) =>
          this.sam.bus.publish({ type: "plugin.watch-failed", plugin: slot.name, error: describe(error) }),
      },
    )
  }

  // ---- failure ----

  private hookFailed(instance: PluginInstance, where: string, error: unknown): void {
    const slot = this.slots.find((s) => s.current === instance)
    if (!slot) return // a replaced version still draining: its failure no longer matters
    const failure = pluginError(
      "PLUGIN_HOOK_FAILED",
      slot.name,
      // What follows (a restart after a backoff, or giving up) is the next event's to say.
      `plugin "${slot.name}" ${instance.version}: its ${where} threw: ${describe(error)}; the plugin was stopped`,
      error,
    )
    slot.current = undefined
    this.work.wentDark(slot)
    instance.goDark()
    publishFailed(this.sam.bus, slot, failure)
    slot.actor.send({ type: "CRASHED", error: failure.message })
    void retire(this.work, instance)
  }

  /** The restart decision on a crash (the machine asks in `failed.deciding`). */
  private decide(slot: Slot, reason: string): DecisionEvent {
    const decision = decideCrash({
      plugin: slot.name,
      policy: this.restartPolicy,
      reason,
      window: slot.window,
      liveSince: slot.liveSince,
      stopping: this.stopping !== undefined,
      now: Date.now(),
      random: Math.random(),
    })
    slot.window = decision.window
    if (decision.published) this.sam.bus.publish({ ...decision.published, plugin: slot.name })
    return decision.event
  }

  /** A plugin that cannot be set up at all (before or without a set-up). */
  private fail(slot: Slot, error: PluginError): void {
    slot.lastError = error
    publishFailed(this.sam.bus, slot, error)
    slot.actor.send({ type: "FAILED", error: error.message })
  }

  // ---- bookkeeping ----

  private addUnresolved(error: PluginError): void {
    const source: PluginSource = {
      label: error.plugin,
      entry: "",
      watch: [],
      config: undefined,
      enabled: true,
      origin: "config",
    }
    this.fail(this.addSlot(source, error.plugin), error)
  }

  private slot(name: string): Slot | undefined {
    return this.slots.find((s) => s.name === name)
  }
}
