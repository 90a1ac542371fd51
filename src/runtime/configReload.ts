// Config hot reload: watches every config file, reloads and validates on change (or on
// reload(): `sam reload`, POST /api/config/reload), and applies only the difference to the
// supervisor. An invalid config changes nothing: SAM keeps the old one and reports every issue.
// Neighbours: configDiff.ts (what changed), fromConfig.ts (config → UnitSpecs), plugins/pluginHost.ts.
import { type ConfigIssue, formatIssue, isConfigError } from "../config/errors.ts"
import { type LoadConfigOptions, type LoadedConfig, loadConfig } from "../config/load.ts"
import type { PluginConfig, SamConfig } from "../config/schema.ts"
import { diffUnits, isEmptyDiff, type UnitDiff } from "./configDiff.ts"
import type { EventBus } from "./eventBus.ts"
import { type WatchHandle, watchFiles } from "./fileWatcher.ts"
import { unitSpecsFromConfig } from "./fromConfig.ts"
import type { Sam } from "./sam.ts"
import type { GroupSpec, Supervisor } from "./supervisor.ts"
import type { UnitSpec } from "./unitSpec.ts"

/** A loaded config: the value and every file it was read from. */
export interface ConfigSnapshot<C> {
  readonly config: C
  readonly files: ReadonlyArray<string>
}

export interface ConfigReloaderOptions<C> {
  readonly supervisor: Pick<
    Supervisor,
    "specs" | "startOrder" | "add" | "configureGroups" | "remove" | "reconfigure" | "startUnit" | "status"
  >
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
  /** Runs after the units were updated, with the new config (e.g. the plugin host's reconcile). */
  readonly onApplied?: (config: C) => void | Promise<void>
  /** Start added units and restart changed ones (default true; false before SAM has started). */
  readonly startUnits?: () => boolean
  readonly debounceMs?: number
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
      readonly unchanged: ReadonlyArray<string>
      /** Supervision groups whose settings changed (applied at once; running units untouched). */
      readonly groupsReconfigured: ReadonlyArray<string>
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

  /** Watch the config files; each burst of edits runs reload(). */
  watch(): void {
    this.watcher?.close()
    this.watcher = watchFiles(this.current.files, () => void this.reload(), {
      ...(this.options.debounceMs === undefined ? {} : { debounceMs: this.options.debounceMs }),
    })
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
    let next: ConfigSnapshot<C>
    let specs: ReturnType<ConfigReloaderOptions<C>["toSpecs"]>
    try {
      next = await this.options.load()
      specs = this.options.toSpecs(next.config)
    } catch (error) {
      const issues: ReadonlyArray<ConfigIssue> = isConfigError(error)
        ? error.issues
        : [{ file: this.current.files[0] ?? "<config>", path: "", message: describe(error) }]
      const message = `config reload rejected, still running the previous config:\n${issues.map(formatIssue).join("\n")}`
      this.options.bus.publish({ type: "config.invalid", message, issues })
      this.last = { ok: false, at, message, issues }
      return this.last
    }
    const previousGroups = this.options.toSpecs(this.current.config).groups ?? []
    const diff = diffUnits(this.options.supervisor.specs(), specs.units, {
      before: previousGroups,
      after: specs.groups ?? [],
    })
    if (specs.groups) this.options.supervisor.configureGroups(specs.groups)
    const failures = await this.apply(diff)
    const filesChanged = next.files.join("\n") !== this.current.files.join("\n")
    this.current = next
    if (filesChanged && this.watcher) this.watch()
    try {
      await this.options.onApplied?.(next.config)
    } catch (error) {
      failures.push({ unit: "(plugins)", error: describe(error) })
    }
    this.last = {
      ok: true,
      at,
      changed: !isEmptyDiff(diff),
      added: diff.added.map((u) => u.id),
      removed: diff.removed,
      restarted: diff.restarted.map((u) => u.id),
      reconfigured: diff.reconfigured.map((u) => u.id),
      unchanged: diff.unchanged,
      groupsReconfigured: diff.groups,
      failures,
    }
    const { ok: _ok, ...summary } = this.last
    this.options.bus.publish({ type: "config.reloaded", ...summary })
    return this.last
  }

  /** Removals (dependents first), replacements, in-place changes, additions, then starts. */
  private async apply(diff: UnitDiff): Promise<Array<{ unit: string; error: string }>> {
    const { supervisor } = this.options
    const failures: Array<{ unit: string; error: string }> = []
    const attempt = async (unit: string, step: () => unknown) => {
      try {
        await step()
        return true
      } catch (error) {
        failures.push({ unit, error: describe(error) })
        return false
      }
    }
    const order = supervisor.startOrder()
    const removed = [...diff.removed].sort((a, b) => order.indexOf(b) - order.indexOf(a))
    for (const id of removed) await attempt(id, () => supervisor.remove(id))

    const toStart: string[] = []
    for (const spec of diff.restarted) {
      const state = supervisor.status(spec.id).state
      const wasActive = state !== "stopped" && state !== "crashed"
      const replaced = await attempt(spec.id, async () => {
        await supervisor.remove(spec.id)
        supervisor.add(spec)
      })
      if (replaced && wasActive) toStart.push(spec.id)
    }
    for (const spec of diff.reconfigured) await attempt(spec.id, () => supervisor.reconfigure(spec))
    for (const spec of diff.added)
      if (await attempt(spec.id, () => supervisor.add(spec))) toStart.push(spec.id)

    if (this.options.startUnits?.() ?? true)
      await Promise.all(toStart.map((id) => attempt(id, () => supervisor.startUnit(id))))
    return failures
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
  sam: Pick<Sam, "supervisor" | "bus">,
  loaded: LoadedConfig,
  options: {
    readonly loadOptions?: Omit<LoadConfigOptions, "configPath">
    readonly plugins?: { reconcile(entries: ReadonlyArray<PluginConfig>): Promise<void> }
    readonly startUnits?: () => boolean
    readonly debounceMs?: number
  } = {},
): ConfigReloader<SamConfig> => {
  const { plugins } = options
  return new ConfigReloader<SamConfig>({
    supervisor: sam.supervisor,
    bus: sam.bus,
    initial: loaded,
    load: () => loadConfig({ ...options.loadOptions, configPath: loaded.configPath }),
    toSpecs: (config) => unitSpecsFromConfig(config, loaded.baseDir),
    ...(plugins === undefined ? {} : { onApplied: (config: SamConfig) => plugins.reconcile(config.plugins) }),
    ...(options.startUnits === undefined ? {} : { startUnits: options.startUnits }),
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
  })
}
