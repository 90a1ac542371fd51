// Build a Sam from configuration: a config file path, or a config already loaded by
// loadConfig. This is the entry point for the daemon and for Node apps embedding SAM.
import { randomUUID } from "node:crypto"
import { join, resolve } from "node:path"
import { auditCommands } from "../audit/auditCommands.ts"
import { AuditLog } from "../audit/auditLog.ts"
import { checkConfigObject, environmentWarnings, type LoadedConfig, loadConfig } from "../config/load.ts"
import { parsePortRange, type SamConfig, type SamConfigInput } from "../config/schema.ts"
import { alertRules } from "../metrics/alerts/alertRule.ts"
import { type Monitoring, startMonitoring } from "../metrics/monitoring.ts"
import type { PluginHost } from "../plugins/index.ts"
import type { ConfigReloader } from "../runtime/configReload.ts"
import { reportCrashes } from "../runtime/crashReporter.ts"
import { withholdFromChildren } from "../runtime/drivers/processDriver.ts"
import { unitSpecsFromConfig } from "../runtime/fromConfig.ts"
import { type Logger, logEvents, openSamLog } from "../runtime/logger.ts"
import type { RotationSettings } from "../runtime/logs/rotatingFile.ts"
import { reapLeftovers, recordInstances } from "../runtime/orphanReaper.ts"
import { processStartTime } from "../runtime/os/proc.ts"
import { Sam, type UnitTraffic } from "../runtime/sam.ts"
import type { SandboxPolicy } from "../runtime/sandboxChoice.ts"
import { openRuntimeStore, type RuntimeStore } from "../runtime/store/runtimeStore.ts"
import { acquireStateDir, type StateDirLock } from "../runtime/store/stateDirLock.ts"
import { storeMemory } from "../runtime/store/supervisorMemory.ts"
import { attachPlugins } from "./attachPlugins.ts"

export interface CreateSamOptions {
  /** Where a relative config path is resolved, and the default config is looked for. */
  readonly cwd?: string | undefined
  /** Environment for the `SAM__` layer and `${env.X}` references (default process.env). */
  readonly env?: Record<string, string | undefined>
  readonly startTimeoutMs?: number | undefined
  /** Write SAM's JSON log to <state_dir>/sam.log (default true). */
  readonly logFile?: boolean | undefined
  /** Load plugins (config `plugins:` and the project's plugins/ folder); default true. */
  readonly plugins?: boolean | undefined
  /** `--set` assignments, kept for config reloads. */
  readonly cliOverrides?: ReadonlyArray<string> | undefined
  /** Record lifecycle commands in the hash-chained <state_dir>/audit.log (default true). */
  readonly auditLog?: boolean | undefined
  /**
   * The config's state dir, already taken with acquireStateDir (the daemon does this before it
   * loads the rest of SAM, so a refusal is fast); SAM then owns it and releases it on stop.
   */
  readonly stateDirLock?: StateDirLock | undefined
  /**
   * What routes requests to the units (the gateway): its in-flight counts feed the autoscaler's
   * scaling.target_in_flight, its drain runs before an instance is scaled away. Without it the
   * autoscaler scales on CPU only and instances are stopped without a drain. One built later
   * plugs in with `sam.useTraffic(traffic)`.
   */
  readonly traffic?: UnitTraffic | undefined
}

export interface ConfiguredSam extends Sam {
  readonly loaded: LoadedConfig
  readonly logger: Logger | undefined
  /** The plugin host (undefined with `plugins: false`). */
  readonly plugins: PluginHost | undefined
  /** Applies config file edits as a diff: `reloader.reload()`, `reloader.watch()`. */
  readonly reloader: ConfigReloader<SamConfig> | undefined
  /** The audit log every lifecycle command is recorded in (undefined with `auditLog: false`). */
  readonly audit: AuditLog | undefined
  /** SAM's durable runtime state (<state_dir>/state.db), open until `stop()` finishes. */
  readonly store: RuntimeStore
  /** This SAM's id in `store.samRuns`. */
  readonly samId: string
  /** Metrics, unit history, alerts and the watchdog (src/metrics), running until `stop()`. */
  readonly monitoring: Monitoring
}

/** A Sam while createSam fills in the ConfiguredSam fields. */
type BuildingSam = Sam & {
  loaded: LoadedConfig
  logger: Logger | undefined
  audit: AuditLog | undefined
  plugins: PluginHost | undefined
  reloader: ConfigReloader<SamConfig> | undefined
  store: RuntimeStore
  samId: string
  monitoring: Monitoring
}

/** How many cleanly stopped runs samRuns keeps (unclean ones stay until swept). */
const KEEP_CLEAN_RUNS = 20

const isLoaded = (input: unknown): input is LoadedConfig =>
  typeof input === "object" && input !== null && "config" in input && "configPath" in input

/**
 * An inline config object (embedding): validated like a file, with relative paths taken from
 * `cwd`. Secret references are not resolved here: pass real values, or load a file instead.
 */
const loadInline = async (
  input: SamConfigInput,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedConfig> => {
  const checked = checkConfigObject(input, "<inline config>")
  const decoded = checked.config
  const stateDir = resolve(cwd, decoded.runtime.state_dir)
  const config: SamConfig = {
    ...decoded,
    runtime: { ...decoded.runtime, state_dir: stateDir },
    agents: Object.fromEntries(
      Object.entries(decoded.agents).map(([id, a]) => [
        id,
        {
          ...a,
          path: resolve(cwd, a.path),
          data_dir: resolve(cwd, a.data_dir ?? join(stateDir, "agents", id, "data")),
        },
      ]),
    ),
  }
  return {
    config,
    configPath: "<inline config>",
    baseDir: cwd,
    files: [],
    origins: new Map(),
    secretValues: new Set(),
    // As a file's: the schema's, then what the machine says (an agent path that does not exist).
    warnings: [...checked.warnings, ...(await environmentWarnings(config, env))],
  }
}

/**
 * Create SAM from a config file (`"./sam.config.ts"`), a config object, or a LoadedConfig.
 * Nothing starts until `await sam.start()`; `await sam.stop()` stops every unit it started.
 */
export const createSam = async (
  input?: string | LoadedConfig | SamConfigInput,
  options: CreateSamOptions = {},
): Promise<ConfiguredSam> => {
  const loaded = isLoaded(input)
    ? input
    : typeof input === "object"
      ? await loadInline(input, options.cwd ?? process.cwd(), options.env ?? process.env)
      : await loadConfig({
          ...(input === undefined ? {} : { configPath: input }),
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
          ...(options.env === undefined ? {} : { env: options.env }),
        })
  const { config } = loaded
  // First of all: the state dir is this SAM's, or nothing happens (StateDirInUse: no reaping,
  // no log, no write). Released last, after the store closes.
  const lock = options.stateDirLock ?? acquireStateDir(config.runtime.state_dir)
  if (lock.stateDir !== resolve(config.runtime.state_dir)) {
    lock.release()
    throw new Error(
      `createSam: stateDirLock holds ${lock.stateDir}, but the config's state dir is ` +
        `${resolve(config.runtime.state_dir)}: take the lock of runtime.state_dir`,
    )
  }
  let store: RuntimeStore
  let sam: BuildingSam
  const samId = randomUUID()
  const { logs } = config.monitoring
  const rotation = {
    maxFileBytes: logs.max_file_mb * 1024 * 1024,
    maxFiles: logs.max_files,
    compress: logs.compress,
  }
  try {
    store = openRuntimeStore(config.runtime.state_dir)
    const { units, groups } = unitSpecsFromConfig(config, loaded.baseDir)
    sam = Object.assign(
      new Sam({
        units,
        groups,
        recentLines: config.monitoring.logs.max_lines_per_unit,
        maxLineBytes: config.monitoring.logs.max_line_kb * 1024,
        logLevel: config.runtime.log_level,
        ...portRangeOf(config),
        shutdownTimeoutMs: config.runtime.shutdown_timeout_seconds * 1000,
        containment: config.runtime.containment,
        samId,
        logs: { dir: join(config.runtime.state_dir, "logs"), ...rotation },
        memory: storeMemory(store),
        sandbox: sandboxPolicy(config),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      }),
      {
        loaded,
        logger: undefined,
        audit: undefined,
        plugins: undefined,
        reloader: undefined,
        store,
        samId,
        // Set by configure(), before anything can run.
        monitoring: undefined as unknown as Monitoring,
      },
    )
  } catch (error) {
    closeQuietly(undefined, lock)
    throw error
  }
  // The gateway's seat: in-flight counts for the autoscaler, drains before scale-downs.
  if (options.traffic) sam.useTraffic(options.traffic)
  // Registered first, so it runs last (finalizers run in reverse).
  sam.addFinalizer(() => {
    try {
      store.samRuns.markStopped(sam.samId)
    } finally {
      closeQuietly(store, lock)
    }
  })
  try {
    await configure(sam, loaded, options, rotation)
  } catch (error) {
    // Half-built: release what was taken (units never started) before reporting.
    await sam.stop()
    throw error
  }
  return sam
}

/**
 * security.sandbox and allow_weak_sandbox; a walled agent never sees SAM's state dir (its token,
 * store, audit log) or vault, even when they lie inside what it may read.
 */
const sandboxPolicy = (config: SamConfig): SandboxPolicy => ({
  mode: config.security.sandbox,
  allowWeak: config.security.allow_weak_sandbox,
  hiddenPaths: [
    resolve(config.runtime.state_dir),
    ...[config.security.vault?.path, config.security.vault?.key_file]
      .filter((path): path is string => path !== undefined)
      .map((path) => resolve(path)),
  ],
})

/** Close the store, then release the lock, even when closing fails. */
const closeQuietly = (store: RuntimeStore | undefined, lock: StateDirLock) => {
  try {
    store?.close()
  } finally {
    lock.release()
  }
}

/** Everything after the lock and the store: the run record, logs, crash reports, reaping, audit, plugins. */
const configure = async (
  sam: BuildingSam,
  loaded: LoadedConfig,
  options: CreateSamOptions,
  rotation: RotationSettings,
): Promise<void> => {
  const { config } = loaded
  sam.store.samRuns.begin({
    samId: sam.samId,
    pid: process.pid,
    startTime: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
    cgroupDirs: sam.containment?.record.cgroupDirs ?? [],
  })
  sam.store.samRuns.pruneClean(KEEP_CLEAN_RUNS)
  if (options.logFile !== false) {
    const log = openSamLog(config.runtime.state_dir, config.runtime.log_level, rotation, (error) =>
      sam.bus.publish({ type: "supervisor", action: "logs-failed", detail: `sam.log: ${String(error)}` }),
    )
    sam.logger = log.logger
    const off = logEvents(sam.bus, log.logger)
    sam.addFinalizer(() => {
      off()
      return log.close()
    })
  }
  const { crash_reports } = config.monitoring
  const offCrashes = reportCrashes(sam, sam.store.crashReports, {
    maxPerUnit: crash_reports.max_per_unit,
    maxAgeMs: crash_reports.max_age_days * 24 * 60 * 60 * 1000,
  })
  sam.addFinalizer(offCrashes)
  // Before anything starts: stop what a SAM that died hard (its reaper too) left on this state dir.
  const reaped = await reapLeftovers(sam.store, sam.samId)
  const killed = reaped.swept.flatMap((s) => s.report.killed)
  if (reaped.leaders.length > 0 || killed.length > 0) {
    sam.bus.publish({
      type: "supervisor",
      action: "orphans-reaped",
      detail: `stopped what a previous SAM that did not stop cleanly left running: ${[
        ...reaped.leaders.map((c) => `${c.unit} (pid ${c.pid})`),
        ...(killed.length > 0 ? [`${killed.length} process(es) of its cells`] : []),
      ].join(", ")}`,
    })
  }
  sam.addFinalizer(recordInstances(sam.store, sam.bus))
  // A token resolved from ${env.X} is still in SAM's environment: no child inherits it.
  let withheld = withholdFromChildren(apiTokenValues(config))
  let superseded: (() => void) | undefined
  sam.addFinalizer(() => {
    superseded?.()
    withheld()
  })
  if (options.auditLog !== false) {
    const audit = await AuditLog.open(join(config.runtime.state_dir, "audit.log"), {
      onError: (error) =>
        sam.bus.publish({
          type: "supervisor",
          action: "audit-failed",
          detail: `audit log write failed: ${String(error)}`,
        }),
      // Each checkpoint also in the store: a cut tail is found even when the head file went with it.
      anchor: sam.store.auditCheckpoints,
      onGap: (detail) => sam.bus.publish({ type: "supervisor", action: "audit-gap", detail }),
      maxFileBytes: config.security.audit.max_file_mb * 1024 * 1024,
    })
    sam.audit = audit
    const off = auditCommands(sam, audit)
    sam.addFinalizer(async () => {
      off()
      await audit.close()
    })
  }
  let monitoring: Monitoring | undefined
  const attached = await attachPlugins(sam, loaded, {
    plugins: options.plugins !== false,
    loadOptions: {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cliOverrides === undefined ? {} : { cliOverrides: options.cliOverrides }),
    },
    // SAM's own settings that apply without a restart.
    onApplied: (next) => {
      if (sam.logger && sam.logger.level !== next.runtime.log_level) sam.logger.level = next.runtime.log_level
      sam.logLevel = next.runtime.log_level
      monitoring?.setAlertRules(alertRules(next.monitoring.alerts))
    },
  })
  sam.plugins = attached.plugins
  sam.reloader = attached.reloader
  // Tokens a reload adds are withheld before any unit starts; those it removes, once it is done.
  attached.reloader?.addHook({
    before: (next) => {
      superseded?.()
      superseded = withheld
      withheld = withholdFromChildren(apiTokenValues(next))
    },
    after: () => {
      superseded?.()
      superseded = undefined
    },
  })
  monitoring = startMonitoring(sam, {
    metrics: config.monitoring.metrics,
    alerts: alertRules(config.monitoring.alerts),
    alertHistory: sam.store.alertHistory,
    ...(attached.plugins === undefined ? {} : { sinks: attached.plugins.diagnostics }),
    externalUrl: `http://${config.api.host.includes(":") ? `[${config.api.host}]` : config.api.host}:${config.api.port}`,
  })
  sam.monitoring = monitoring
  const started = monitoring
  // Before the store closes (finalizers run last-registered first).
  sam.addFinalizer(() => started.close())
}

const portRangeOf = (config: SamConfig) => {
  const range =
    config.runtime.port_range === undefined ? undefined : parsePortRange(config.runtime.port_range)
  return range === undefined ? {} : { portRange: range }
}

const apiTokenValues = (config: SamConfig): ReadonlyArray<string> =>
  Object.values(config.security.api_tokens ?? {}).map((t) => t.token)

export const stateFile = (loaded: LoadedConfig, name: string): string =>
  join(loaded.config.runtime.state_dir, name)
