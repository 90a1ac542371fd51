// Config hot reload: watches every config file, reloads and validates on change (or on
// reload(): `sam reload`, POST /api/config/reload), and applies only the difference to the
// supervisor. An invalid config changes nothing: SAM keeps the old one and reports every issue.
// Neighbours: configDiff.ts (what changed), fromConfig.ts (config → UnitSpecs), plugins/pluginHost.ts.
import { isAbsolute } from "node:path"
import { type ConfigIssue, formatIssue, isConfigError } from "../config/errors.ts"
import { layerFilesBeside } from "../config/layers.ts"
import { type LoadConfigOptions, type LoadedConfig, loadConfig } from "../config/load.ts"
import type { PluginConfig, SamConfig } from "../config/schema.ts"
import type { EventBus } from "./eventBus.ts"
import { type WatchHandle, watchFiles } from "./fileWatcher.ts"
import { unitSpecsFromConfig } from "./fromConfig.ts"
import type { ApplyReport, Sam } from "./sam.ts"
import { settingsChanges } from "./settingsChanges.ts"
import type { GroupSpec } from "./supervisor/supervisor.ts"
import type { UnitSpec } from "./unitSpec.ts"

/** A loaded config: the value and every file it was read from. */
export interface ConfigSnapshot<C> {
  readonly config: C
  readonly files: ReadonlyArray<string>
}

export interface ConfigReloaderOptions<C> {
  /** Applies the new units and groups as a diff (Sam.apply). */
  readonly apply: (
    next: { units: ReadonlyArray<UnitSpec>; groups: ReadonlyArray<GroupSpec> },
    start: boolean,
  ) => Promise<ApplyReport>
  readonly bus: EventBus
  /** The config SAM is running now. */
  readonly initial: ConfigSnapshot<C>
  /** Load and validate again; rejects (ideally with a ConfigError) when invalid. */
  readonly load: () => Promise<ConfigSnapshot<C>>
  /** The units (and groups) a config describes. */
  readonly toSpecs: (config: C) => {
    readonly units: ReadonlyArray<UnitSpec>
    readonly groups?: ReadonlyArray<GroupSpec>
  }
  /**
   * Runs after the units were updated, with the new config (e.g. the plugin host's reconcile);
   * may resolve with the names of the plugins it loaded, unloaded or set up again.
   */
  readonly onApplied?: (config: C) => Promise<ReadonlyArray<string> | undefined> | undefined
  /** Start added units and restart changed ones (default true; false before SAM has started). */
  readonly startUnits?: () => boolean
  /** SAM's own settings a reload changed: those applied at once, and those that wait for a restart. */
  readonly settingsChanges?: (before: C, after: C) => SettingsChanges
  readonly debounceMs?: number
}

export interface SettingsChanges {
  /** Settings (dotted config paths) in effect at once: `runtime.log_level`, `security.api_tokens`. */
  readonly applied: ReadonlyArray<string>
  /** Settings SAM reads only when it starts (`api.port`): changed in the file, not in the running SAM. */
  readonly restartNeeded: ReadonlyArray<string>
}

/** A part of SAM that takes settings from the config when it reloads (the control API's tokens). */
export interface ReloadHook<C> {
  /** What makes `next` unusable to this part: the reload is then rejected whole, nothing changes. */
  readonly check?: (next: C, current: C) => ReadonlyArray<{ readonly path: string; readonly message: string }>
  /** Before any unit is touched (new secrets withheld from the children about to start). */
  readonly before?: (next: C, current: C) => void
  /** Once the units took the new config. */
  readonly after?: (next: C, current: C) => void | Promise<void>
}

export type ConfigReloadReport =
  | {
      readonly ok: true
      readonly at: string
      readonly changed: boolean
      readonly added: ReadonlyArray<string>
      readonly removed: ReadonlyArray<string>
      readonly restarted: ReadonlyArray<string>
      readonly reconfigured: ReadonlyArray<string>
      /**
       * Units an operator had stopped whose config changed: the change ends the stop, and they
       * were started with it (not listed as restarted, reconfigured or scaled too).
       */
      readonly started: ReadonlyArray<string>
      /** Units whose count the config changed, scaled to it (instances added or drained; the others untouched). */
      readonly scaled: ReadonlyArray<{ readonly unit: string; readonly instances: number }>
      readonly unchanged: ReadonlyArray<string>
      /** Supervision groups whose settings changed (applied at once; running units untouched). */
      readonly groupsReconfigured: ReadonlyArray<string>
      /** Plugins loaded, unloaded or set up again (the `plugins:` list and the plugins/ folder). */
      readonly plugins: ReadonlyArray<string>
      /** SAM's own settings now in effect (`runtime.log_level`, `security.api_tokens`). */
      readonly settings: ReadonlyArray<string>
      /**
       * Settings that differ from those SAM started with and that it reads only when it starts:
       * they need a restart of SAM (named on every reload until then, or until set back).
       */
      readonly restartNeeded: ReadonlyArray<string>
      /** Units the new config could not be applied to, with why. */
      readonly failures: ReadonlyArray<{ readonly unit: string; readonly error: string }>
    }
  | {
      readonly ok: false
      readonly at: string
      readonly message: string
      readonly issues: ReadonlyArray<ConfigIssue>
    }

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

export class ConfigReloader<C> {
  private readonly options: ConfigReloaderOptions<C>
  private current: ConfigSnapshot<C>
  private watcher: WatchHandle | undefined
  private running: Promise<ConfigReloadReport> | undefined
  private again = false
  private last: ConfigReloadReport | undefined
  private readonly hooks = new Set<ReloadHook<C>>()

  constructor(options: ConfigReloaderOptions<C>) {
    this.options = options
    this.current = options.initial
  }

  /** The config in effect. */
  get config(): C {
    return this.current.config
  }

  /** The outcome of the last reload (for status surfaces). */
  get lastReport(): ConfigReloadReport | undefined {
    return this.last
  }

  /** Have `hook` check and take each reloaded config; returns the function that removes it. */
  addHook(hook: ReloadHook<C>): () => void {
    this.hooks.add(hook)
    return () => {
      this.hooks.delete(hook)
    }
  }

  /**
   * Watch the config files; each burst of edits runs reload(). Edits saved before `held` settles
   * (SAM still starting its units) are kept, and applied once it has: none is lost.
   */
  watch(held?: Promise<unknown>): void {
    this.watcher?.close()
    let holding = held !== undefined
    let pending = false
    void held?.finally(() => {
      holding = false
      if (pending && this.watcher) void this.reload()
    })
    this.watcher = watchFiles(
      this.current.files,
      () => {
        if (holding) pending = true
        else void this.reload()
      },
      { ...(this.options.debounceMs === undefined ? {} : { debounceMs: this.options.debounceMs }) },
    )
  }

  stop(): void {
    this.watcher?.close()
    this.watcher = undefined
  }

  /**
   * Load, validate and apply. Concurrent calls share a run; a call during a run schedules one
   * more run afterwards, so the last edit always gets applied.
   */
  reload(): Promise<ConfigReloadReport> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      let report: ConfigReloadReport
      do {
        this.again = false
        report = await this.reloadOnce()
      } while (this.again)
      return report
    })().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async reloadOnce(): Promise<ConfigReloadReport> {
    const at = new Date().toISOString()
    const previous = this.current.config
    const hooks = [...this.hooks]
    let next: ConfigSnapshot<C>
    let specs: ReturnType<ConfigReloaderOptions<C>["toSpecs"]>
    try {
      next = await this.options.load()
      specs = this.options.toSpecs(next.config)
    } catch (error) {
      const issues: ReadonlyArray<ConfigIssue> = isConfigError(error)
        ? error.issues
        : [{ file: this.current.files[0] ?? "<config>", path: "", message: describe(error) }]
      return this.reject(at, issues)
    }
    const refused = hooks.flatMap((hook) => hook.check?.(next.config, previous) ?? [])
    if (refused.length > 0)
      return this.reject(
        at,
        refused.map((issue) => ({ file: next.files[0] ?? "<config>", ...issue })),
      )
    const failures: Array<{ readonly unit: string; readonly error: string }> = []
    for (const hook of hooks) {
      try {
        hook.before?.(next.config, previous)
      } catch (error) {
        failures.push({ unit: "(settings)", error: describe(error) })
      }
    }
    const applied = await this.options.apply(
      { units: specs.units, groups: specs.groups ?? [] },
      this.options.startUnits?.() ?? true,
    )
    const { diff } = applied
    const notStarted = (id: string) => !applied.started.includes(id)
    failures.push(...applied.failures)
    const filesChanged = next.files.join("\n") !== this.current.files.join("\n")
    this.current = next
    if (filesChanged && this.watcher) this.watch()
    let plugins: ReadonlyArray<string> = []
    try {
      plugins = (await this.options.onApplied?.(next.config)) ?? []
    } catch (error) {
      failures.push({ unit: "(plugins)", error: describe(error) })
    }
    for (const hook of hooks) {
      try {
        await hook.after?.(next.config, previous)
      } catch (error) {
        failures.push({ unit: "(settings)", error: describe(error) })
      }
    }
    const none: SettingsChanges = { applied: [], restartNeeded: [] }
    const settings = this.options.settingsChanges?.(previous, next.config) ?? none
    // What waits for a restart is told against the settings SAM started with, on every reload
    // until SAM restarts (a watcher may have applied the edit before `sam reload` asked).
    const pending = this.options.settingsChanges?.(this.options.initial.config, next.config) ?? none
    this.last = {
      ok: true,
      at,
      changed:
        applied.changed ||
        plugins.length > 0 ||
        settings.applied.length > 0 ||
        settings.restartNeeded.length > 0,
      added: diff.added.map((u) => u.id),
      removed: diff.removed,
      restarted: diff.restarted.map((u) => u.id).filter(notStarted),
      // A scale that left the count as it was (max_instances alone) changed the unit in place.
      reconfigured: [
        ...diff.reconfigured.map((u) => u.id),
        ...diff.scaled.map((u) => u.id).filter((id) => !applied.scaled.some((s) => s.unit === id)),
      ].filter(notStarted),
      started: applied.started,
      scaled: applied.scaled.filter((s) => notStarted(s.unit)),
      unchanged: diff.unchanged,
      groupsReconfigured: diff.groups,
      plugins,
      settings: settings.applied,
      restartNeeded: pending.restartNeeded,
      failures,
    }
    const { ok: _ok, ...summary } = this.last
    this.options.bus.publish({ type: "config.reloaded", ...summary })
    return this.last
  }

  /** Nothing changes: SAM keeps the config it runs and reports every issue. */
  private reject(at: string, issues: ReadonlyArray<ConfigIssue>): ConfigReloadReport {
    const message = `config reload rejected, still running the previous config:\n${issues.map(formatIssue).join("\n")}`
    this.options.bus.publish({ type: "config.invalid", message, issues })
    this.last = { ok: false, at, message, issues }
    return this.last
  }
}

/**
 * The reloader for a Sam built from `loaded`: reloads the same config path with the same
 * options, and hands the new `plugins:` list to the plugin host.
 *
 * @example
 * ```ts
 * const reloader = configReloaderFor(sam, sam.loaded, { plugins: host })
 * host.reloadConfig = () => reloader.reload()
 * reloader.watch()
 * ```
 */
export const configReloaderFor = (
  sam: Pick<Sam, "apply" | "bus">,
  loaded: LoadedConfig,
  options: {
    readonly loadOptions?: Omit<LoadConfigOptions, "configPath">
    readonly plugins?: { reconcile(entries: ReadonlyArray<PluginConfig>): Promise<ReadonlyArray<string>> }
    /** More to apply once the units took the new config (SAM's own settings: the log level). */
    readonly onApplied?: (config: SamConfig) => void
    readonly startUnits?: () => boolean
    readonly debounceMs?: number
  } = {},
): ConfigReloader<SamConfig> => {
  const { plugins, onApplied } = options
  // The files read, and the layer files that may be created beside the main one.
  const watched = (config: LoadedConfig): ConfigSnapshot<SamConfig> => ({
    config: config.config,
    files: [
      ...new Set([
        ...config.files,
        ...(isAbsolute(config.configPath) ? layerFilesBeside(config.configPath) : []),
      ]),
    ],
  })
  return new ConfigReloader<SamConfig>({
    apply: (next, start) => sam.apply(next, start),
    bus: sam.bus,
    initial: watched(loaded),
    load: async () => watched(await loadConfig({ ...options.loadOptions, configPath: loaded.configPath })),
    toSpecs: (config) => unitSpecsFromConfig(config, loaded.baseDir),
    settingsChanges,
    onApplied: async (config: SamConfig) => {
      onApplied?.(config)
      return (await plugins?.reconcile(config.plugins)) ?? []
    },
    ...(options.startUnits === undefined ? {} : { startUnits: options.startUnits }),
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
  })
}
