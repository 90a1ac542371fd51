// The plugin host: loads plugins (config entries and the project's plugins/ folder) in
// dependency order, supervises them (loading → running | failed → stopped), isolates their
// failures from SAM, and hot-reloads them: a new version is set up beside the old one, swapped
// in atomically only if its setup succeeded, and the old one is drained and disposed.
import type { IncomingMessage, ServerResponse } from "node:http"
import { join } from "node:path"
import { watchFiles } from "../runtime/fileWatcher.ts"
import type { Sam } from "../runtime/sam.ts"
import { Diagnostics } from "./diagnostics.ts"
import { describe, PluginError, pluginError } from "./errors.ts"
import { GatewayRegistry } from "./gatewayRegistry.ts"
import type { PluginEnvironment } from "./pluginContext.ts"
import { handlePluginHttp } from "./pluginHttp.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import { loadDefinition } from "./pluginModule.ts"
import { orderPlugins } from "./pluginOrder.ts"
import { type PluginRestartPolicy, PluginRestarts } from "./pluginRestarts.ts"
import { decodeConfig, setUpInstance } from "./pluginSetup.ts"
import { fileHash, newSlot, type Slot, statusOf } from "./pluginSlot.ts"
import { type PluginEntry, type PluginSource, resolvePluginSources } from "./pluginSources.ts"
import type { PluginDefinition, PluginStatus } from "./types.ts"

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
  private readonly restarts: PluginRestarts
  private slots: Slot[] = []
  /** Names in the order they went live, for stopping in reverse. */
  private liveOrder: string[] = []
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private bridgeOff: (() => void) | undefined
  /** Replaced or failed versions still finishing their calls. */
  private readonly retiring = new Set<Promise<void>>()

  constructor(options: PluginHostOptions) {
    this.options = options
    this.sam = options.sam
    this.restarts = new PluginRestarts(
      options.sam.bus,
      options.restart === false ? { maxRestarts: 0 } : (options.restart ?? {}),
    )
    this.baseDir = options.baseDir ?? process.cwd()
    this.pluginsDir =
      options.pluginsDir === false ? undefined : (options.pluginsDir ?? join(this.baseDir, "plugins"))
    this.gateway = options.gateway ?? new GatewayRegistry()
    this.diagnostics = options.diagnostics ?? new Diagnostics()
    this.env = {
      sam: this.sam,
      gateway: this.gateway,
      diagnostics: this.diagnostics,
      probeOwners: new Map(),
      onHookFailure: (instance, where, error) => this.hookFailed(instance, where, error),
      cleanupTimeoutMs: options.cleanupTimeoutMs ?? 5_000,
    }
  }

  /** Load every configured and discovered plugin; resolves when each is running or failed. */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error("the plugin host is stopped"))
    this.starting ??= (async () => {
      this.bridgeOff = this.diagnostics.bridge(this.sam.bus, this.sam.logs)
      this.sam.addFinalizer(() => this.stop())
      const { sources, errors } = resolvePluginSources({
        entries: this.options.entries ?? [],
        baseDir: this.baseDir,
        ...(this.pluginsDir === undefined ? {} : { pluginsDir: this.pluginsDir }),
      })
      for (const error of errors) this.addUnresolved(error)
      await this.loadSources(sources)
    })()
    return this.starting
  }

  /** Unload every plugin (dependents first) and stop watching. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => {})
      this.restarts.stop()
      for (const slot of this.slots) slot.watcher?.close()
      for (const name of [...this.liveOrder].reverse()) await this.unload(name)
      await Promise.all(this.retiring)
      this.bridgeOff?.()
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

  /** The version currently serving `name`, if it is running. */
  liveInstance(name: string): PluginInstance | undefined {
    const slot = this.slot(name)
    return slot?.status === "running" ? slot.current : undefined
  }

  /** Serve `/api/plugins...` and `POST /api/config/reload`; true when the request was taken. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    return handlePluginHttp(this, req, res)
  }

  /**
   * Load the plugin's module again and swap the new version in if its setup succeeds; a failed
   * attempt leaves the old version serving. `config` replaces the plugin's config.
   */
  reload(
    name: string,
    options: { readonly config?: unknown; readonly reimport?: boolean } = {},
  ): Promise<ReloadOutcome> {
    const slot = this.slot(name)
    if (!slot)
      return Promise.resolve({
        ok: false,
        plugin: name,
        error: pluginError("PLUGIN_NOT_FOUND", name, `no plugin "${name}"`),
      })
    return this.serialize(slot, () => this.replace(slot, options))
  }

  /** Stop a plugin (and the plugins depending on it first); it stays listed as stopped. */
  async unload(name: string): Promise<void> {
    const slot = this.slot(name)
    if (!slot) return
    for (const dependent of this.slots)
      if (dependent.current && dependent.definition?.dependsOn?.includes(name))
        await this.unload(dependent.name)
    await this.serialize(slot, async () => {
      const instance = slot.current
      slot.current = undefined
      if (slot.status !== "failed") {
        slot.status = "stopped"
        slot.error = undefined
      }
      this.liveOrder = this.liveOrder.filter((n) => n !== name)
      if (!instance) return
      instance.goDark()
      await instance.drain(this.options.drainTimeoutMs ?? 10_000)
      await instance.close()
      this.sam.bus.publish({ type: "plugin.stopped", plugin: name, version: instance.version })
    })
  }

  /**
   * Apply a changed `plugins:` list (config hot reload): new entries load, removed ones unload,
   * entries whose `config` or `enabled` changed are reloaded with the new settings.
   */
  async reconcile(entries: ReadonlyArray<PluginEntry>): Promise<void> {
    const { sources, errors } = resolvePluginSources({
      entries,
      baseDir: this.baseDir,
      ...(this.pluginsDir === undefined ? {} : { pluginsDir: this.pluginsDir }),
    })
    const byEntry = new Map(sources.map((s) => [s.entry, s]))
    for (const slot of [...this.slots]) {
      if (slot.source.entry === "" || !byEntry.has(slot.source.entry)) {
        await this.unload(slot.name)
        slot.watcher?.close()
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
      if (!source.enabled) {
        if (slot.current || slot.status !== "stopped") await this.unload(slot.name)
      } else if (
        !before.enabled ||
        slot.status !== "running" ||
        JSON.stringify(before.config) !== JSON.stringify(source.config)
      ) {
        await this.reload(slot.name, { config: source.config, reimport: slot.definition === undefined })
      }
    }
    for (const error of errors) this.addUnresolved(error)
    await this.loadSources(added)
  }

  // ---- loading ----

  private async loadSources(sources: ReadonlyArray<PluginSource>): Promise<void> {
    const imported = await Promise.all(
      sources.map(async (source) => ({
        source,
        loaded: source.enabled ? await loadDefinition(source.entry, source.label) : undefined,
      })),
    )
    const fresh: Slot[] = []
    for (const { source, loaded } of imported) {
      const slot = newSlot(source)
      this.slots.push(slot)
      fresh.push(slot)
      if (loaded === undefined) continue
      slot.imports = 1
      slot.hashes.set(source.entry, fileHash(source.entry))
      if (loaded instanceof PluginError) {
        this.markFailed(slot, loaded)
        continue
      }
      const holder = this.slots.find((s) => s !== slot && s.definition?.name === loaded.name)
      slot.version = loaded.version
      if (holder) {
        this.markFailed(
          slot,
          pluginError(
            "PLUGIN_CONFLICT",
            loaded.name,
            `plugin name "${loaded.name}" is used by both ${holder.source.label} and ${source.label}; rename one`,
          ),
        )
        continue
      }
      slot.name = loaded.name
      slot.definition = loaded
    }
    const candidates = fresh.filter((s) => s.definition !== undefined && s.status === "loading")
    const running = this.slots.filter((s) => s.status === "running" && s.definition)
    const { order, blocked } = orderPlugins(
      [...running, ...candidates].map((s) => ({ name: s.name, dependsOn: s.definition?.dependsOn ?? [] })),
    )
    for (const slot of candidates) {
      const why = blocked.get(slot.name)
      if (why)
        this.markFailed(slot, pluginError("PLUGIN_DEPENDENCY", slot.name, `plugin "${slot.name}" ${why}`))
    }
    for (const name of order) {
      const slot = candidates.find((s) => s.name === name)
      if (slot && slot.status === "loading") await this.serialize(slot, () => this.firstStart(slot))
    }
    for (const slot of fresh) this.watch(slot)
  }

  private async firstStart(slot: Slot): Promise<void> {
    const definition = slot.definition as PluginDefinition
    this.sam.bus.publish({ type: "plugin.loading", plugin: slot.name, source: slot.source.label })
    const instance = await this.instantiate(definition, slot.source.config)
    if (instance instanceof PluginError) return this.markFailed(slot, instance)
    instance.goLive()
    this.goneLive(slot, instance)
    this.sam.bus.publish({ type: "plugin.loaded", plugin: slot.name, version: instance.version })
  }

  /** Decode the config, check dependencies, run setup (bounded); a live-ready instance or why not. */
  private async instantiate(
    definition: PluginDefinition,
    rawConfig: unknown,
  ): Promise<PluginInstance | PluginError> {
    const name = definition.name
    const config = decodeConfig(definition, rawConfig)
    if (config instanceof PluginError) return config
    for (const dep of definition.dependsOn ?? []) {
      const holder = this.slot(dep)
      if (holder?.status !== "running")
        return pluginError(
          "PLUGIN_DEPENDENCY",
          name,
          `plugin "${name}" depends on "${dep}", which is ${holder ? `${holder.status}${holder.error ? ` (${holder.error})` : ""}` : "not loaded"}`,
        )
    }
    return setUpInstance(definition, config.value, this.env, this.options.setupTimeoutMs ?? 10_000)
  }

  // ---- hot reload ----

  private async replace(
    slot: Slot,
    options: { readonly config?: unknown; readonly reimport?: boolean },
  ): Promise<ReloadOutcome> {
    const reimport = options.reimport ?? true
    const maxReloads = this.options.maxReloads ?? 50
    if (reimport && slot.imports > maxReloads) {
      const error = pluginError(
        "PLUGIN_RELOAD_LIMIT",
        slot.name,
        `plugin "${slot.name}" was reloaded ${slot.imports - 1} times; every reload keeps one module instance ` +
          `in memory (ESM cannot unload modules), so SAM stops hot-reloading it after ${maxReloads}. ` +
          "Restart SAM to load the new version",
      )
      return this.reloadFailed(slot, error)
    }
    let definition = slot.definition
    if (reimport || !definition) {
      slot.imports++
      const loaded = await loadDefinition(slot.source.entry, slot.source.label)
      if (loaded instanceof PluginError) return this.reloadFailed(slot, loaded)
      if (slot.definition && loaded.name !== slot.name)
        return this.reloadFailed(
          slot,
          pluginError(
            "PLUGIN_INVALID",
            slot.name,
            `${slot.source.label} renamed its plugin from "${slot.name}" to "${loaded.name}"; a rename takes effect when SAM restarts`,
          ),
        )
      definition = loaded
    }
    const config = options.config === undefined ? slot.source.config : options.config
    const old = slot.current
    if (!old) {
      slot.status = "loading"
      slot.name = definition.name
      this.sam.bus.publish({ type: "plugin.loading", plugin: slot.name, source: slot.source.label })
    }
    const instance = await this.instantiate(definition, config)
    if (instance instanceof PluginError) return this.reloadFailed(slot, instance)
    if (this.stopping) {
      await instance.close()
      return {
        ok: false,
        plugin: slot.name,
        error: pluginError("PLUGIN_CLOSED", slot.name, "SAM is stopping"),
      }
    }
    // The swap: synchronous, so every request and event sees either the old or the new version.
    instance.goLive()
    old?.goDark()
    slot.definition = definition
    slot.source = { ...slot.source, config }
    this.goneLive(slot, instance)
    this.sam.bus.publish(
      old
        ? { type: "plugin.reloaded", plugin: slot.name, from: old.version, to: instance.version }
        : { type: "plugin.loaded", plugin: slot.name, version: instance.version },
    )
    if (old) await this.retire(old)
    return { ok: true, plugin: slot.name, version: instance.version }
  }

  /** Let a replaced version finish what it started, then close it. */
  private retire(old: PluginInstance): Promise<void> {
    const done = (async () => {
      // One macrotask turn lets calls already routed to the old version (their dispatch pending
      // in microtasks) start, so the drain counts them.
      await new Promise<void>((resolve) => setImmediate(resolve))
      await old.drain(this.options.drainTimeoutMs ?? 10_000)
      await old.close()
    })()
    this.retiring.add(done)
    return done.finally(() => this.retiring.delete(done))
  }

  private reloadFailed(slot: Slot, error: PluginError): ReloadOutcome {
    if (slot.current) {
      slot.error = `reload failed, still serving ${slot.current.version}: ${error.message}`
      this.sam.bus.publish({
        type: "plugin.reload-failed",
        plugin: slot.name,
        version: slot.current.version,
        code: error.code,
        error: error.message,
      })
    } else this.markFailed(slot, error)
    return { ok: false, plugin: slot.name, error }
  }

  private watch(slot: Slot): void {
    if (this.options.watch === false || slot.source.watch.length === 0 || slot.watcher || this.stopping)
      return
    slot.watcher = watchFiles(
      slot.source.watch,
      (paths) => {
        const unchanged = paths.every((p) => slot.hashes.get(p) === fileHash(p))
        // A stopped plugin (unloaded or disabled) stays stopped until its config enables it again.
        if (unchanged || slot.reloadQueued || slot.status === "stopped") return
        for (const p of paths) slot.hashes.set(p, fileHash(p))
        slot.reloadQueued = true
        void this.serialize(slot, async () => {
          slot.reloadQueued = false
          if (!this.stopping) await this.replace(slot, {})
        })
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
      `plugin "${slot.name}" ${instance.version}: its ${where} threw: ${describe(error)}; ` +
        "the plugin was stopped (save a fixed version to reload it)",
      error,
    )
    slot.current = undefined
    this.liveOrder = this.liveOrder.filter((n) => n !== slot.name)
    instance.goDark()
    this.markFailed(slot, failure)
    slot.error += this.restarts.failed(slot.name, () => void this.reload(slot.name, { reimport: false }))
    void this.retire(instance)
  }

  private markFailed(slot: Slot, error: PluginError): void {
    slot.status = "failed"
    slot.error = error.message
    this.sam.bus.publish({
      type: "plugin.failed",
      plugin: slot.name,
      version: slot.version,
      code: error.code,
      error: error.message,
    })
  }

  // ---- bookkeeping ----

  private goneLive(slot: Slot, instance: PluginInstance): void {
    this.restarts.cancel(slot.name)
    slot.current = instance
    slot.version = instance.version
    slot.status = "running"
    slot.error = undefined
    if (!this.liveOrder.includes(slot.name)) this.liveOrder.push(slot.name)
  }

  private addUnresolved(error: PluginError): void {
    const slot = newSlot({
      label: error.plugin,
      entry: "",
      watch: [],
      config: undefined,
      enabled: true,
      origin: "config",
    })
    slot.name = error.plugin
    this.slots.push(slot)
    this.markFailed(slot, error)
  }

  private slot(name: string): Slot | undefined {
    return this.slots.find((s) => s.name === name)
  }

  private serialize<A>(slot: Slot, task: () => Promise<A>): Promise<A> {
    const run = slot.queue.then(task, task)
    slot.queue = run.catch(() => {})
    return run
  }
}
