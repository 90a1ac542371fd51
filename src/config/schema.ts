// The SAM config schema (Effect Schema): what a user may write (Encoded, snake_case as in the seed
// design) and what the runtime receives (Type, defaults filled). load.ts decodes with it; jsonSchema.ts
// turns it into schema/sam.schema.json for editors.

import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { AlertRuleSchema } from "./alertRules.ts"
import { DEFAULT_STATE_DIR } from "./constants.ts"
import { DependsOnSchema } from "./dependsOn.ts"
import { GatewaySchema } from "./gatewayConfig.ts"
import { HealthCheckSchema } from "./healthCheck.ts"
import { encodedDefaultRestartPolicy, RestartPolicySchema } from "./restartPolicy.ts"
import {
  Count,
  EnvMap,
  NonBlank,
  NonEmpty,
  optional,
  Port,
  PositiveCount,
  PositiveNumber,
  PositiveSeconds,
  Seconds,
  SignalName,
  StringList,
  withDefault,
} from "./schemaPrimitives.ts"
import { WatchSchema } from "./watchConfig.ts"

export type { AlertKind, AlertRuleConfig } from "./alertRules.ts"
export { DEFAULT_STATE_DIR } from "./constants.ts"
export type { HealthCheckConfig } from "./healthCheck.ts"
export type { RestartPolicyConfig } from "./restartPolicy.ts"
export type { WatchConfig } from "./watchConfig.ts"

export const AGENT_RUNTIMES = ["sandbox", "process", "worker", "inline"] as const
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const
export const DEPLOYMENT_MODES = ["process", "container", "external"] as const

const AgentRuntime = Schema.Literals(AGENT_RUNTIMES)
/** At least 1 KiB, at most 1 TiB (fractions allowed: 0.5 = 512 KiB). */
const LogFileMegabytes = Schema.Finite.check(
  Schema.isGreaterThanOrEqualTo(1 / 1024),
  Schema.isLessThanOrEqualTo(1024 * 1024),
)
/** "24000-24999": the ports SAM hands out to services that set none (runtime.port_range). */
export const parsePortRange = (text: string): { readonly from: number; readonly to: number } | undefined => {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text)
  if (!match) return undefined
  const from = Number(match[1])
  const to = Number(match[2])
  return from >= 1 && to <= 65535 && from <= to ? { from, to } : undefined
}
const PortRange = Schema.String.check(
  Schema.makeFilter(
    (text: string) =>
      parsePortRange(text) !== undefined ||
      `expected a port range such as "24000-24999" (from ≤ to, 1-65535), found ${JSON.stringify(text)}`,
    {
      expected: 'a port range such as "24000-24999"',
      toJsonSchema: () => ({ pattern: "^\\d{1,5}-\\d{1,5}$" }),
    },
  ),
)
const DependencyRestart = Schema.Literals(["restart", "none"])
/** An absolute path outside the control API's /api. */
const MetricsPath = NonEmpty.check(
  Schema.makeFilter(
    (path: string) =>
      (path.startsWith("/") && !/^\/api(\/|$)/.test(path) && !/[?#\s]/.test(path)) ||
      `expected a path such as "/metrics" (starting with /, outside /api, no query), found ${JSON.stringify(path)}`,
    { expected: 'a path such as "/metrics"', toJsonSchema: () => ({ pattern: "^/" }) },
  ),
)

const Stop = Schema.Struct({
  signal: SignalName.pipe(
    withDefault("SIGTERM", "Signal sent first when stopping (a name from os.constants.signals)."),
  ),
  grace_seconds: Seconds.pipe(withDefault(10, "Time to exit after the signal before SIGKILL.")),
}).annotate({ identifier: "Stop" })

const stopDefault = { signal: "SIGTERM", grace_seconds: 10 }

const restartPolicyField = RestartPolicySchema.pipe(
  Schema.withDecodingDefaultKey(Effect.succeed(encodedDefaultRestartPolicy)),
)

// Fields shared by agents and services: dependencies between units and supervision.
const unitFields = {
  enabled: Schema.Boolean.pipe(withDefault(true, "false: configured but not started.")),
  version: optional(Schema.String, "Descriptive: shown as labels.version in the API, nothing acts on it."),
  dependencies: StringList.pipe(
    withDefault(
      [],
      "Library packages the unit uses: shown as labels.dependencies in the API, nothing acts on it. Unit-to-unit ordering is depends_on.",
    ),
  ),
  depends_on: DependsOnSchema.pipe(
    withDefault(
      [],
      "Ids of agents/services that must be ready before this unit starts (or a map of id to { condition }).",
    ),
  ),
  dependency_restart: DependencyRestart.pipe(
    withDefault("none", "restart: restart this unit when one of its depends_on restarts."),
  ),
  restart_policy: restartPolicyField,
  health_check: optional(HealthCheckSchema),
  stop: Stop.pipe(withDefault(stopDefault)),
  watch: optional(WatchSchema),
  cron_restart: optional(
    NonEmpty,
    "Restart the unit on this cron schedule (PM2's cron_restart; 5 fields, or 6 with seconds first, in SAM's local time): what runs or is failing restarts, a job that ended runs again, an operator's stop is kept. \"0 3 * * *\": every day at 03:00.",
  ),
} as const

export const AgentSchema = Schema.Struct({
  ...unitFields,
  path: NonEmpty.annotate({
    description: "Directory or entry file of the agent (relative to this file).",
  }),
  persona: optional(
    Schema.String,
    "Given to the agent's code as ctx.agent.persona (a system prompt, a role); SAM does nothing else with it.",
  ),
  runtime: AgentRuntime.pipe(withDefault("sandbox", "Default: runtime.default_agent_runtime.")),
  security_profile: Schema.Literals(["standard", "strict", "trusted"]).pipe(withDefault("standard")),
  resources: optional(
    Schema.Struct({
      max_memory_mb: optional(PositiveNumber),
      max_cpu_percent: optional(PositiveNumber, "Percent of one core; up to 100 x cores."),
      timeout_seconds: optional(PositiveSeconds),
    }).annotate({ identifier: "AgentResources" }),
  ),
  environment: EnvMap.pipe(withDefault({}, "Environment variables of the agent process.")),
  capabilities: StringList.pipe(withDefault([], "Capabilities this agent offers.")),
  network: optional(
    Schema.Boolean,
    "May open network connections (sandbox standard profile). Default: true when it depends on a service.",
  ),
  group: NonEmpty.pipe(withDefault("agents", "Supervision group (supervision.groups).")),
  heartbeat: optional(
    Schema.Struct({
      interval_seconds: PositiveSeconds.pipe(withDefault(5)),
      ttl_seconds: PositiveSeconds.pipe(withDefault(15)),
    }).annotate({ identifier: "Heartbeat" }),
  ),
  data_dir: optional(NonEmpty, "Default <state_dir>/agents/<id>/data; always set by loadConfig."),
  config: optional(
    Schema.Record(Schema.String, Schema.Unknown),
    "The agent's own settings, passed to its handlers as ctx.config.",
  ),
  max_queue: optional(
    Count,
    "Calls that may wait for its capabilities while every instance is busy (at concurrency); past it, queue_full. Default 100 (the router's).",
  ),
  concurrency: optional(PositiveCount),
  log_level: optional(
    Schema.Literals(["debug", "info", "warn", "error"]),
    "Lowest level of its ctx.logger entries kept in its log. Default: runtime.log_level.",
  ),
}).annotate({ identifier: "Agent" })

const Deployment = Schema.Struct({
  mode: Schema.Literals(DEPLOYMENT_MODES).annotate({
    description: "process: run command; container: run image with docker/podman; external: only watch url.",
  }),
  command: optional(NonBlank, "mode process: executable."),
  args: optional(StringList),
  cwd: optional(NonEmpty, "Working directory (relative to this file)."),
  env: optional(EnvMap),
  port: optional(Port, "Fixed port the process listens on (also passed as PORT)."),
  image: optional(NonEmpty, "mode container: image reference."),
  ports: optional(StringList, 'mode container: "host:container" mappings.'),
  volumes: optional(StringList, 'mode container: "host:container"; a relative host path is resolved.'),
  engine: optional(NonEmpty, "mode container: docker/podman CLI name or path."),
  url: optional(NonEmpty, "mode external: base URL of the service."),
}).annotate({ identifier: "Deployment" })

export const ServiceSchema = Schema.Struct({
  ...unitFields,
  type: optional(
    Schema.String,
    'Free-form kind, e.g. "vector-database": shown as labels.type in the API, nothing acts on it.',
  ),
  deployment: Deployment,
  resources: optional(
    Schema.Struct({
      max_memory_mb: optional(
        PositiveNumber,
        "Resident memory of an instance's whole process tree past which it is stopped and restarted by its restart policy (PM2's max_memory_restart).",
      ),
    }),
  ),
  configuration: optional(
    Schema.Unknown,
    "Handed to the service's process or container as JSON in SAM_SERVICE_CONFIGURATION (at most 64 KiB); an external service gets nothing (a warning).",
  ),
  scaling: Schema.Struct({
    min_instances: Count.pipe(
      withDefault(
        1,
        "Instances started, and the fewest the autoscaler keeps (0: none until scaled up by `sam scale`, the autoscaler or a request through the gateway).",
      ),
    ),
    max_instances: optional(
      PositiveCount,
      "Most instances `sam scale` and the autoscaler may run (default: min_instances, or 1 when min_instances is 0).",
    ),
    cpu_threshold: optional(
      PositiveNumber,
      "Autoscale on CPU: the target in percent of one core, averaged over the instances.",
    ),
    target_in_flight: optional(
      PositiveNumber,
      "Autoscale on requests in flight per instance (counted by the gateway).",
    ),
    scale_up_seconds: Seconds.pipe(
      withDefault(15, "How long the load must stay above its target before instances are added."),
    ),
    scale_down_seconds: Seconds.pipe(
      withDefault(300, "How long the load must stay well below its target before instances are removed."),
    ),
    cooldown_seconds: Seconds.pipe(
      withDefault(30, "No autoscaling for this long after the instance count changed (whoever changed it)."),
    ),
    idle_seconds: optional(
      PositiveSeconds,
      "min_instances 0: stop the service after this long without a request through the gateway.",
    ),
  })
    .annotate({ identifier: "Scaling" })
    .pipe(withDefault({})),
  group: NonEmpty.pipe(withDefault("services", "Supervision group (supervision.groups).")),
  gateway: GatewaySchema.pipe(withDefault({}, "How /api/<id>/ is proxied to the service (docs/GATEWAY.md).")),
}).annotate({ identifier: "Service" })

const Strategy = Schema.Literals(["one_for_one", "one_for_all", "rest_for_one"])

/** Group defaults when a group is declared under supervision.groups (OTP's supervisor intensity). */
export const DECLARED_GROUP_DEFAULTS = {
  strategy: "one_for_one",
  max_restarts: 30,
  window_seconds: 60,
} as const

const SupervisionGroup = Schema.Struct({
  strategy: Strategy.pipe(withDefault(DECLARED_GROUP_DEFAULTS.strategy)),
  max_restarts: Count.pipe(
    withDefault(
      DECLARED_GROUP_DEFAULTS.max_restarts,
      "Restarts of all its units within window_seconds before the group shuts down.",
    ),
  ),
  window_seconds: PositiveSeconds.pipe(withDefault(DECLARED_GROUP_DEFAULTS.window_seconds)),
}).annotate({ identifier: "SupervisionGroup" })

const SupervisionGroupDecoded = Schema.Struct({
  strategy: Strategy,
  /** null: no group intensity (an implicit group nobody declared); each unit keeps its own. */
  max_restarts: Schema.NullOr(Schema.Number),
  window_seconds: Schema.Number,
})

export type SupervisionGroupConfig = typeof SupervisionGroupDecoded.Type
type SupervisionGroupInput = typeof SupervisionGroup.Type

/** The groups "services" and "agents" when the user declares neither: no group limit. */
export const IMPLICIT_GROUP: SupervisionGroupConfig = {
  strategy: "one_for_one",
  max_restarts: null,
  window_seconds: DECLARED_GROUP_DEFAULTS.window_seconds,
}
export const IMPLICIT_GROUP_NAMES = ["services", "agents"] as const

// The groups "services" and "agents" always exist; a user entry of that name is a declared group.
const SupervisionGroups = Schema.Record(Schema.String, SupervisionGroup).pipe(
  Schema.decodeTo(
    Schema.Record(Schema.String, SupervisionGroupDecoded),
    SchemaTransformation.transform<
      Record<string, SupervisionGroupConfig>,
      Record<string, SupervisionGroupInput>
    >({
      decode: (groups) => ({ services: IMPLICIT_GROUP, agents: IMPLICIT_GROUP, ...groups }),
      encode: (groups) => {
        const declared: Record<string, SupervisionGroupInput> = {}
        for (const [name, g] of Object.entries(groups))
          if (g.max_restarts !== null) declared[name] = { ...g, max_restarts: g.max_restarts }
        return declared
      },
    }),
  ),
)

const Plugin = Schema.Union([
  NonEmpty.annotate({ description: 'A package name, or a path starting with "." or "/".' }),
  Schema.Struct({
    path: optional(NonEmpty, "Plugin module path (relative to this file)."),
    package: optional(NonEmpty, "Plugin package name."),
    enabled: optional(Schema.Boolean),
    config: optional(Schema.Unknown, "Options passed to the plugin."),
  }).annotate({ identifier: "PluginObject" }),
])

const PluginDecoded = Schema.Struct({
  path: Schema.optionalKey(Schema.String),
  package: Schema.optionalKey(Schema.String),
  enabled: Schema.Boolean,
  config: Schema.optionalKey(Schema.Unknown),
})

export type PluginConfig = typeof PluginDecoded.Type

/** A plugin string is a path when it starts with "." or "/", else a package name. */
export const isPathLike = (s: string): boolean => s.startsWith(".") || s.startsWith("/")

const PluginSchema = Plugin.pipe(
  Schema.decodeTo(PluginDecoded, {
    decode: SchemaGetter.transform((p): PluginConfig => {
      if (typeof p === "string")
        return isPathLike(p) ? { path: p, enabled: true } : { package: p, enabled: true }
      return { ...p, enabled: p.enabled ?? true }
    }),
    encode: SchemaGetter.transform((p) => p),
  }),
)

const ApiToken = Schema.Struct({
  token: NonEmpty,
  role: Schema.Literals(["viewer", "operator", "admin"]),
}).annotate({ identifier: "ApiToken" })

export const SamConfigSchema = Schema.Struct({
  $schema: optional(Schema.String, "JSON Schema reference for editors; ignored."),
  agents: Schema.Record(Schema.String, AgentSchema).pipe(withDefault({}, "Agents by id.")),
  services: Schema.Record(Schema.String, ServiceSchema).pipe(withDefault({}, "Services by id.")),
  api: Schema.Struct({
    host: NonEmpty.pipe(withDefault("127.0.0.1", "Address of the control API.")),
    port: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })).pipe(
      withDefault(7070, "Port of the control API; 0 picks a free one."),
    ),
  })
    .annotate({ identifier: "Api" })
    .pipe(withDefault({})),
  runtime: Schema.Struct({
    state_dir: NonEmpty.pipe(
      withDefault(DEFAULT_STATE_DIR, "SAM's state directory (relative to this file)."),
    ),
    log_level: Schema.Literals(LOG_LEVELS).pipe(withDefault("info")),
    shutdown_timeout_seconds: Seconds.pipe(
      withDefault(30, "Bound on SAM's whole shutdown; what is still running then is SIGKILLed."),
    ),
    containment: Schema.Literals(["auto", "cgroup-v2", "cgroup-v1", "process-group"]).pipe(
      withDefault("auto", "How unit processes are contained (docs/CONTAINMENT.md); auto picks the best."),
    ),
    default_agent_runtime: AgentRuntime.pipe(withDefault("sandbox", "runtime of agents that set none.")),
    port_range: optional(
      PortRange,
      'Ports handed out to services without deployment.port, e.g. "24000-24999" (default: below the kernel ephemeral range, 20000-32767 on most Linux hosts).',
    ),
  })
    .annotate({ identifier: "Runtime" })
    .pipe(withDefault({})),
  security: Schema.Struct({
    api_tokens: optional(
      Schema.Record(Schema.String, ApiToken),
      "Bearer tokens of the control API, by name.",
    ),
    vault: optional(
      Schema.Struct({
        path: optional(NonEmpty, "Vault file (default <state_dir>/vault.json)."),
        key_file: optional(
          NonEmpty,
          "Key file, mode 0600 (default <state_dir>/vault.key); SAM_VAULT_KEY wins.",
        ),
      }).annotate({ identifier: "Vault" }),
    ),
    run_as: optional(
      Schema.Struct({ uid: optional(Count), gid: optional(Count) }).annotate({ identifier: "RunAs" }),
    ),
    sandbox: Schema.Literals(["auto", "bubblewrap", "permission-model"]).pipe(
      withDefault(
        "auto",
        "Walls around sandboxed agents (docs/SECURITY.md): auto uses bubblewrap where it works, else Node's permission model alone; bubblewrap requires it; permission-model never uses it.",
      ),
    ),
    allow_weak_sandbox: Schema.Boolean.pipe(
      withDefault(
        false,
        "Let security_profile strict agents run on Node's permission model alone when bubblewrap cannot run (they refuse to start otherwise).",
      ),
    ),
    audit: Schema.Struct({
      max_file_mb: PositiveNumber.pipe(
        withDefault(64, "audit.log is rotated to audit.log.<n> past this size; the hash chain continues."),
      ),
    })
      .annotate({ identifier: "Audit" })
      .pipe(withDefault({})),
  })
    .annotate({ identifier: "Security" })
    .pipe(withDefault({})),
  monitoring: Schema.Struct({
    metrics: Schema.Struct({
      enabled: Schema.Boolean.pipe(
        withDefault(true, "Serve Prometheus metrics on the control API's port (false: the path is a 404)."),
      ),
      path: MetricsPath.pipe(withDefault("/metrics", "Path of the Prometheus endpoint on the API port.")),
      public: Schema.Boolean.pipe(
        withDefault(
          false,
          "true: the metrics path needs no credential from loopback clients (a local Prometheus); others still need a viewer token.",
        ),
      ),
    }).pipe(withDefault({})),
    logs: Schema.Struct({
      max_lines_per_unit: PositiveCount.pipe(
        withDefault(1000, "Output lines kept in memory per instance (crash reports quote the last 50)."),
      ),
      max_line_kb: PositiveCount.pipe(
        withDefault(64, "A child's output line longer than this many KiB is split by SAM."),
      ),
      max_file_mb: LogFileMegabytes.pipe(
        withDefault(
          10,
          "A unit's log file (<state_dir>/logs/<id>.log) and SAM's own sam.log are rotated before they pass this many MiB.",
        ),
      ),
      max_files: Count.pipe(withDefault(5, "Rotated files kept per log beside the current one.")),
      compress: Schema.Boolean.pipe(withDefault(false, "Gzip rotated log files (<id>.log.1.gz).")),
    }).pipe(withDefault({})),
    crash_reports: Schema.Struct({
      max_per_unit: PositiveCount.pipe(withDefault(100, "Crash reports kept per unit (the newest).")),
      max_age_days: PositiveNumber.pipe(withDefault(30, "Crash reports older than this are deleted.")),
    }).pipe(withDefault({})),
    alerts: Schema.Record(Schema.String, AlertRuleSchema).pipe(
      withDefault({}, "Alert rules by name (the alertname label): docs/METRICS.md."),
    ),
  })
    .annotate({ identifier: "Monitoring" })
    .pipe(withDefault({})),
  plugins: Schema.Array(PluginSchema).pipe(withDefault([], "Plugins to load, in order.")),
  supervision: Schema.Struct({
    groups: SupervisionGroups.pipe(
      withDefault(
        {},
        'Supervision groups by name. A declared group defaults to one_for_one, 30 restarts in 60 s; the implicit groups "services" and "agents" have no group limit unless declared.',
      ),
    ),
  })
    .annotate({ identifier: "Supervision" })
    .pipe(withDefault({})),
}).annotate({ identifier: "SamConfig", title: "SAM configuration" })

/** The decoded config: defaults filled, restart policies normalized. */
export type SamConfig = typeof SamConfigSchema.Type
/** What a config file may contain (optional fields stay optional). */
export type SamConfigInput = typeof SamConfigSchema.Encoded
export type AgentConfig = typeof AgentSchema.Type
export type ServiceConfig = typeof ServiceSchema.Type
export type AgentConfigInput = typeof AgentSchema.Encoded
export type ServiceConfigInput = typeof ServiceSchema.Encoded
