// Turns the validated config (snake_case, user-facing) into the runtime's UnitSpecs and
// supervision groups. Disabled units are left out. Pure: no I/O.

import { join, resolve } from "node:path"
import { type DependencyCondition, dependencyConditions, dependencyIds } from "../config/dependsOn.ts"
import type { GatewayConfig } from "../config/gatewayConfig.ts"
import type {
  AgentConfig,
  HealthCheckConfig,
  RestartPolicyConfig,
  SamConfig,
  ServiceConfig,
} from "../config/schema.ts"
import { WATCH_DEFAULTS, type WatchConfig, type WatchedUnit, watchedPaths } from "../config/watchConfig.ts"
import type { GatewaySpec } from "./gatewaySpec.ts"
import type { GroupSpec } from "./supervisor/supervisor.ts"
import type {
  AutoscaleSpec,
  DependencyWait,
  ProbeSpec,
  RestartSpec,
  StopSpec,
  UnitSpec,
  WatchSpec,
} from "./unitSpec.ts"

const seconds = (s: number) => Math.round(s * 1000)

export const restartSpec = (policy: RestartPolicyConfig): RestartSpec => ({
  type: policy.type,
  maxRestarts: policy.max_restarts,
  windowMs: seconds(policy.window_seconds),
  backoffBaseMs: seconds(policy.backoff_seconds),
  backoffMaxMs: seconds(policy.max_backoff_seconds),
  stableMs: seconds(policy.stable_seconds),
  forceExitCodes: policy.restart_exit_codes,
  preventExitCodes: policy.no_restart_exit_codes,
  onExhausted: policy.on_exhausted,
})

const stopSpec = (stop: { signal: string; grace_seconds: number }): StopSpec => ({
  signal: stop.signal as NodeJS.Signals,
  graceMs: seconds(stop.grace_seconds),
})

const waits: Record<DependencyCondition, DependencyWait | undefined> = {
  service_healthy: undefined,
  service_started: "started",
  service_completed_successfully: "completed",
}

/** `depends_on` (a list, or Compose's map with conditions) as the spec's ids and conditions. */
const dependencies = (dependsOn: unknown): Pick<UnitSpec, "dependsOn" | "dependencyConditions"> => {
  const conditions: Record<string, DependencyWait> = {}
  for (const [id, condition] of Object.entries(dependencyConditions(dependsOn))) {
    const wait = waits[condition]
    if (wait !== undefined) conditions[id] = wait
  }
  return {
    dependsOn: dependencyIds(dependsOn),
    ...(Object.keys(conditions).length === 0 ? {} : { dependencyConditions: conditions }),
  }
}

export const probeSpec = (check: HealthCheckConfig, kind: "agent" | "service"): ProbeSpec => ({
  // An agent has no port to probe: its health check runs over IPC (the agent's health() hook).
  type: kind === "agent" && check.type === "http" ? "heartbeat" : check.type,
  ...(check.endpoint === undefined ? {} : { endpoint: check.endpoint }),
  ...(check.port === undefined ? {} : { port: check.port }),
  ...(check.command === undefined ? {} : { command: check.command }),
  ...(check.log_line === undefined ? {} : { logLine: check.log_line }),
  ...(check.expected_status === undefined ? {} : { expectedStatus: check.expected_status }),
  intervalMs: seconds(check.interval_seconds),
  timeoutMs: seconds(check.timeout_seconds),
  failureThreshold: check.failure_threshold,
  successThreshold: check.success_threshold,
  startPeriodMs: seconds(check.start_period_seconds),
  // A line once seen stays seen: a log check only gates readiness (crossChecks refuses liveness).
  role: check.type === "log" ? "readiness" : check.kind,
})

/** The autoscaler's targets, when scaling sets one (cpu_threshold, target_in_flight). */
export const autoscaleSpec = (scaling: ServiceConfig["scaling"]): AutoscaleSpec | undefined =>
  scaling.cpu_threshold === undefined && scaling.target_in_flight === undefined
    ? undefined
    : {
        ...(scaling.cpu_threshold === undefined ? {} : { cpuPercent: scaling.cpu_threshold }),
        ...(scaling.target_in_flight === undefined ? {} : { inFlight: scaling.target_in_flight }),
        upMs: seconds(scaling.scale_up_seconds),
        downMs: seconds(scaling.scale_down_seconds),
        cooldownMs: seconds(scaling.cooldown_seconds),
      }

/**
 * A unit's `watch`, when it is on: absolute paths (relative ones from `baseDir`, as loadConfig
 * resolves them), the default ignores plus the unit's, and the folders SAM itself writes
 * (`ignoreDirs`: the state dir with its logs, an agent's data dir) so a unit never restarts itself.
 */
export const watchSpec = (
  watch: WatchConfig | undefined,
  unit: WatchedUnit,
  where: { readonly baseDir?: string | undefined; readonly ignoreDirs: ReadonlyArray<string> },
): WatchSpec | undefined => {
  if (watch === undefined || !watch.enabled) return undefined
  const { baseDir } = where
  // Without a base (specs built from a config loadConfig did not resolve) paths stay as written.
  const absolute = (path: string) => (baseDir === undefined ? path : resolve(baseDir, path))
  return {
    paths: watchedPaths(watch, unit, baseDir ?? ".").map(absolute),
    ignore: [...WATCH_DEFAULTS.ignore, ...watch.ignore],
    ignoreDirs: where.ignoreDirs.map(absolute),
    debounceMs: watch.debounce_ms,
    ...(baseDir === undefined ? {} : { relativeTo: baseDir }),
  }
}

export const gatewaySpec = (g: GatewayConfig, idleSeconds?: number): GatewaySpec => ({
  enabled: g.enabled,
  stripPrefix: g.strip_prefix,
  balance: g.balance,
  hash: {
    ...(g.hash?.header === undefined ? {} : { header: g.hash.header.toLowerCase() }),
    ...(g.hash?.cookie === undefined ? {} : { cookie: g.hash.cookie }),
  },
  weights: g.weights ?? [],
  slowStartMs: seconds(g.slow_start_seconds),
  outlier: {
    consecutiveFailures: g.outlier.consecutive_failures,
    baseEjectionMs: seconds(g.outlier.base_ejection_seconds),
    maxEjectionPercent: g.outlier.max_ejection_percent,
    panicThresholdPercent: g.outlier.panic_threshold_percent,
  },
  timeouts: {
    connectMs: g.timeouts.connect_ms,
    ttfbMs: g.timeouts.ttfb_ms,
    idleMs: g.timeouts.idle_ms,
    startMs: g.timeouts.start_ms,
  },
  retries: {
    attempts: g.retries.attempts,
    budgetPercent: g.retries.budget_percent,
    backoffMs: g.retries.backoff_ms,
  },
  breaker: {
    enabled: g.breaker.enabled,
    windowMs: seconds(g.breaker.window_seconds),
    minRequests: g.breaker.min_requests,
    failurePercent: g.breaker.failure_percent,
    slowCallMs: g.breaker.slow_call_ms,
    slowCallPercent: g.breaker.slow_call_percent,
    openMs: seconds(g.breaker.open_seconds),
    halfOpenRequests: g.breaker.half_open_requests,
  },
  maxInFlight: g.max_in_flight,
  maxBodyBytes: g.max_body_bytes,
  ...(g.rate_limit === undefined
    ? {}
    : {
        rateLimit: {
          requestsPerSecond: g.rate_limit.requests_per_second,
          burst: g.rate_limit.burst ?? Math.ceil(g.rate_limit.requests_per_second),
          key: g.rate_limit.key,
        },
      }),
  cache: { enabled: g.cache.enabled, maxEntries: g.cache.max_entries, maxBytes: g.cache.max_bytes },
  ...(g.auth === undefined ? {} : { auth: g.auth }),
  forwardAuth: g.forward_auth,
  browserIsolation: g.browser_isolation,
  ...(idleSeconds === undefined ? {} : { idleMs: seconds(idleSeconds) }),
})

export const serviceSpec = (
  id: string,
  service: ServiceConfig,
  baseDir?: string,
  stateDir?: string,
): UnitSpec => {
  const d = service.deployment
  const watch =
    d.mode === "process"
      ? watchSpec(
          service.watch,
          { kind: "service", cwd: d.cwd },
          { baseDir, ignoreDirs: stateDir === undefined ? [] : [stateDir] },
        )
      : undefined
  // The service's own settings, as JSON in its environment (its deployment.env wins on a clash).
  const env: Readonly<Record<string, string>> = {
    ...(service.configuration === undefined
      ? {}
      : { SAM_SERVICE_CONFIGURATION: JSON.stringify(service.configuration) }),
    ...d.env,
  }
  const envPort = env.PORT === undefined ? undefined : Number(env.PORT)
  const port = d.port ?? (envPort !== undefined && Number.isInteger(envPort) ? envPort : undefined)
  const autoscale = autoscaleSpec(service.scaling)
  return {
    id,
    kind: "service",
    runtime: d.mode,
    group: service.group,
    ...dependencies(service.depends_on),
    labels: {
      ...(service.type === undefined ? {} : { type: service.type }),
      ...(service.version === undefined ? {} : { version: service.version }),
      dependencies: service.dependencies,
    },
    dependencyRestart: service.dependency_restart,
    instances: service.scaling.min_instances,
    // A service started on demand may run one instance unless it says more.
    ...(service.scaling.max_instances === undefined
      ? service.scaling.min_instances === 0
        ? { maxInstances: 1 }
        : {}
      : { maxInstances: service.scaling.max_instances }),
    ...(autoscale === undefined ? {} : { autoscale }),
    gateway: gatewaySpec(service.gateway, service.scaling.idle_seconds),
    restart: restartSpec(service.restart_policy),
    stop: stopSpec(service.stop),
    probes: service.health_check ? [probeSpec(service.health_check, "service")] : [],
    ...(d.mode === "process" && d.command !== undefined
      ? {
          process: {
            command: d.command,
            args: d.args ?? [],
            // Relative commands and args work from the config file's directory by default.
            ...(d.cwd === undefined ? (baseDir === undefined ? {} : { cwd: baseDir }) : { cwd: d.cwd }),
            env,
            ...(port === undefined ? {} : { port }),
            inheritEnv: true,
          },
        }
      : {}),
    ...(d.mode === "container" && d.image !== undefined
      ? {
          container: {
            ...(d.engine === undefined ? {} : { engine: d.engine }),
            image: d.image,
            ports: d.ports ?? [],
            volumes: d.volumes ?? [],
            env,
            args: d.args ?? [],
          },
        }
      : {}),
    ...(d.mode === "external" && d.url !== undefined ? { externalUrl: d.url } : {}),
    ...(watch === undefined ? {} : { watch }),
    ...(service.cron_restart === undefined ? {} : { cronRestart: service.cron_restart }),
    ...(service.resources?.max_memory_mb === undefined
      ? {}
      : { maxMemoryMb: service.resources.max_memory_mb }),
  }
}

export const agentSpec = (
  id: string,
  agent: AgentConfig,
  stateDir: string,
  runAs?: { readonly uid?: number; readonly gid?: number },
  serviceIds: ReadonlySet<string> = new Set(),
  baseDir?: string,
): UnitSpec => {
  const dataDir = agent.data_dir ?? join(stateDir, "agents", id, "data")
  const watch = watchSpec(
    agent.watch,
    { kind: "agent", path: agent.path },
    { baseDir, ignoreDirs: [stateDir, dataDir] },
  )
  return {
    id,
    kind: "agent",
    runtime: agent.runtime,
    group: agent.group,
    ...dependencies(agent.depends_on),
    labels: {
      ...(agent.version === undefined ? {} : { version: agent.version }),
      dependencies: agent.dependencies,
    },
    dependencyRestart: agent.dependency_restart,
    instances: 1,
    restart: restartSpec(agent.restart_policy),
    stop: stopSpec(agent.stop),
    probes: agent.health_check ? [probeSpec(agent.health_check, "agent")] : [],
    agent: {
      path: agent.path,
      securityProfile: agent.security_profile,
      environment: agent.environment,
      capabilities: agent.capabilities,
      network: agent.network ?? dependencyIds(agent.depends_on).some((d) => serviceIds.has(d)),
      ...(agent.resources?.max_memory_mb === undefined ? {} : { maxMemoryMb: agent.resources.max_memory_mb }),
      ...(agent.resources?.max_cpu_percent === undefined
        ? {}
        : { maxCpuPercent: agent.resources.max_cpu_percent }),
      ...(agent.resources?.timeout_seconds === undefined
        ? {}
        : { timeoutMs: seconds(agent.resources.timeout_seconds) }),
      heartbeatIntervalMs: seconds(agent.heartbeat?.interval_seconds ?? 5),
      heartbeatTtlMs: seconds(agent.heartbeat?.ttl_seconds ?? 15),
      dataDir,
      ...(agent.persona === undefined ? {} : { persona: agent.persona }),
      ...(agent.version === undefined ? {} : { version: agent.version }),
      ...(agent.concurrency === undefined ? {} : { concurrency: agent.concurrency }),
      ...(agent.max_queue === undefined ? {} : { maxQueue: agent.max_queue }),
      ...(agent.log_level === undefined ? {} : { logLevel: agent.log_level }),
      config: agent.config ?? {},
      ...(runAs === undefined ? {} : { runAs }),
    },
    ...(watch === undefined ? {} : { watch }),
    ...(agent.cron_restart === undefined ? {} : { cronRestart: agent.cron_restart }),
  }
}

/** A group nobody declared (max_restarts null) has no group limit: maxRestarts undefined. */
export const groupSpecs = (config: SamConfig): ReadonlyArray<GroupSpec> =>
  Object.entries(config.supervision.groups).map(([name, g]) => ({
    name,
    strategy: g.strategy,
    maxRestarts: g.max_restarts ?? undefined,
    windowMs: seconds(g.window_seconds),
  }))

/**
 * Every enabled unit of the config, plus the supervision groups. A dependency on a disabled
 * unit is dropped (config validation warns about it): waiting for it would wait forever.
 */
export const unitSpecsFromConfig = (
  config: SamConfig,
  baseDir?: string,
): { units: UnitSpec[]; groups: ReadonlyArray<GroupSpec> } => {
  const units = [
    ...Object.entries(config.services)
      .filter(([, s]) => s.enabled)
      .map(([id, s]) => serviceSpec(id, s, baseDir, config.runtime.state_dir)),
    ...Object.entries(config.agents)
      .filter(([, a]) => a.enabled)
      .map(([id, a]) =>
        agentSpec(
          id,
          a,
          config.runtime.state_dir,
          config.security.run_as,
          new Set(Object.keys(config.services)),
          baseDir,
        ),
      ),
  ]
  const enabled = new Set(units.map((u) => u.id))
  return {
    units: units.map((u) => ({ ...u, dependsOn: u.dependsOn.filter((d) => enabled.has(d)) })),
    groups: groupSpecs(config),
  }
}
