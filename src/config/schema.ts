// The SAM config schema (Effect Schema): what a user may write (Encoded, snake_case as in the seed
// design) and what the runtime receives (Type, defaults filled). load.ts decodes with it; jsonSchema.ts
// turns it into schema/sam.schema.json for editors.

import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import { DEFAULT_STATE_DIR } from "./constants.ts"
import { HealthCheckSchema } from "./healthCheck.ts"
import { encodedDefaultRestartPolicy, RestartPolicySchema } from "./restartPolicy.ts"
import {
  Count,
  optional,
  Port,
  PositiveCount,
  PositiveSeconds,
  Seconds,
  StringList,
  StringMap,
  withDefault,
} from "./schemaPrimitives.ts"

export { DEFAULT_STATE_DIR } from "./constants.ts"
export type { HealthCheckConfig } from "./healthCheck.ts"
export type { RestartPolicyConfig } from "./restartPolicy.ts"

export const AGENT_RUNTIMES = ["sandbox", "process", "worker", "inline"] as const
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const
export const DEPLOYMENT_MODES = ["process", "container", "external"] as const

const AgentRuntime = Schema.Literals(AGENT_RUNTIMES)
const DependencyRestart = Schema.Literals(["restart", "none"])

const Stop = Schema.Struct({
  signal: Schema.String.pipe(withDefault("SIGTERM", "Signal sent first when stopping.")),
  grace_seconds: Seconds.pipe(withDefault(10, "Time to exit after the signal before SIGKILL.")),
}).annotate({ identifier: "Stop" })

const stopDefault = { signal: "SIGTERM", grace_seconds: 10 }

const restartPolicyField = RestartPolicySchema.pipe(
  Schema.withDecodingDefaultKey(Effect.succeed(encodedDefaultRestartPolicy)),
)

// Fields shared by agents and services: dependencies between units and supervision.
const unitFields = {
  enabled: Schema.Boolean.pipe(withDefault(true, "false: configured but not started.")),
  version: optional(Schema.String),
  dependencies: StringList.pipe(
    withDefault([], "Library packages the unit uses (informational). Unit-to-unit ordering is depends_on."),
  ),
  depends_on: StringList.pipe(
    withDefault([], "Ids of agents/services that must be ready before this unit starts."),
  ),
  dependency_restart: DependencyRestart.pipe(
    withDefault("none", "restart: restart this unit when one of its depends_on restarts."),
  ),
  restart_policy: restartPolicyField,
  health_check: optional(HealthCheckSchema),
  stop: Stop.pipe(withDefault(stopDefault)),
} as const

export const AgentSchema = Schema.Struct({
  ...unitFields,
  path: Schema.String.annotate({
    description: "Directory or entry file of the agent (relative to this file).",
  }),
  persona: optional(Schema.String),
  runtime: AgentRuntime.pipe(withDefault("sandbox", "Default: runtime.default_agent_runtime.")),
  security_profile: Schema.Literals(["standard", "strict", "trusted"]).pipe(withDefault("standard")),
  resources: optional(
    Schema.Struct({
      max_memory_mb: optional(PositiveSeconds),
      max_cpu_percent: optional(PositiveSeconds, "Percent of one core; up to 100 x cores."),
      timeout_seconds: optional(PositiveSeconds),
    }).annotate({ identifier: "AgentResources" }),
  ),
  environment: StringMap.pipe(withDefault({}, "Environment variables of the agent process.")),
  capabilities: StringList.pipe(withDefault([], "Capabilities this agent offers.")),
  network: optional(
    Schema.Boolean,
    "May open network connections (sandbox standard profile). Default: true when it depends on a service.",
  ),
  group: Schema.String.pipe(withDefault("agents", "Supervision group (supervision.groups).")),
  heartbeat: optional(
    Schema.Struct({
      interval_seconds: PositiveSeconds.pipe(withDefault(5)),
      ttl_seconds: PositiveSeconds.pipe(withDefault(15)),
    }).annotate({ identifier: "Heartbeat" }),
  ),
  data_dir: optional(Schema.String, "Default <state_dir>/agents/<id>/data; always set by loadConfig."),
  config: optional(
    Schema.Record(Schema.String, Schema.Unknown),
    "The agent's own settings, passed to its handlers as ctx.config.",
  ),
  max_queue: optional(Count),
  concurrency: optional(PositiveCount),
}).annotate({ identifier: "Agent" })

const Deployment = Schema.Struct({
  mode: Schema.Literals(DEPLOYMENT_MODES).annotate({
    description: "process: run command; container: run image with docker/podman; external: only watch url.",
  }),
  command: optional(Schema.String, "mode process: executable."),
  args: optional(StringList),
  cwd: optional(Schema.String, "Working directory (relative to this file)."),
  env: optional(StringMap),
  port: optional(Port, "Fixed port the process listens on (also passed as PORT)."),
  image: optional(Schema.String, "mode container: image reference."),
  ports: optional(StringList, 'mode container: "host:container" mappings.'),
  volumes: optional(StringList, 'mode container: "host:container"; a relative host path is resolved.'),
  engine: optional(Schema.String, "mode container: docker/podman CLI name or path."),
  url: optional(Schema.String, "mode external: base URL of the service."),
}).annotate({ identifier: "Deployment" })

export const ServiceSchema = Schema.Struct({
  ...unitFields,
  type: optional(Schema.String, 'Free-form kind, e.g. "vector-database".'),
  deployment: Deployment,
  configuration: optional(Schema.Unknown, "Free-form settings passed to the service."),
  scaling: Schema.Struct({
    min_instances: PositiveCount.pipe(withDefault(1)),
    max_instances: optional(PositiveCount),
    cpu_threshold: optional(PositiveSeconds, "CPU percent that triggers scaling up."),
  })
    .annotate({ identifier: "Scaling" })
    .pipe(withDefault({})),
  group: Schema.String.pipe(withDefault("services", "Supervision group (supervision.groups).")),
}).annotate({ identifier: "Service" })

const SupervisionGroup = Schema.Struct({
  strategy: Schema.Literals(["one_for_one", "one_for_all", "rest_for_one"]).pipe(withDefault("one_for_one")),
  max_restarts: Count.pipe(
    withDefault(30, "Restarts of all its units within window_seconds before the group shuts down."),
  ),
  window_seconds: PositiveSeconds.pipe(withDefault(60)),
}).annotate({ identifier: "SupervisionGroup" })

const implicitGroup = { strategy: "one_for_one", max_restarts: 30, window_seconds: 60 } as const

// The groups "services" and "agents" always exist; a user entry overrides their settings.
const SupervisionGroups = Schema.Record(Schema.String, SupervisionGroup).pipe(
  Schema.decode({
    decode: SchemaGetter.transform((groups) => ({
      services: implicitGroup,
      agents: implicitGroup,
      ...groups,
    })),
    encode: SchemaGetter.transform((groups) => groups),
  }),
)

const Plugin = Schema.Union([
  Schema.String.annotate({ description: 'A package name, or a path starting with "." or "/".' }),
  Schema.Struct({
    path: optional(Schema.String, "Plugin module path (relative to this file)."),
    package: optional(Schema.String, "Plugin package name."),
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
  token: Schema.String,
  role: Schema.Literals(["viewer", "operator", "admin"]),
}).annotate({ identifier: "ApiToken" })

export const SamConfigSchema = Schema.Struct({
  $schema: optional(Schema.String, "JSON Schema reference for editors; ignored."),
  agents: Schema.Record(Schema.String, AgentSchema).pipe(withDefault({}, "Agents by id.")),
  services: Schema.Record(Schema.String, ServiceSchema).pipe(withDefault({}, "Services by id.")),
  api: Schema.Struct({
    host: Schema.String.pipe(withDefault("127.0.0.1", "Address of the control API.")),
    port: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })).pipe(
      withDefault(7070, "Port of the control API; 0 picks a free one."),
    ),
  })
    .annotate({ identifier: "Api" })
    .pipe(withDefault({})),
  runtime: Schema.Struct({
    state_dir: Schema.String.pipe(
      withDefault(DEFAULT_STATE_DIR, "SAM's state directory (relative to this file)."),
    ),
    log_level: Schema.Literals(LOG_LEVELS).pipe(withDefault("info")),
    shutdown_timeout_seconds: Seconds.pipe(withDefault(30)),
    default_agent_runtime: AgentRuntime.pipe(withDefault("sandbox", "runtime of agents that set none.")),
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
        path: optional(Schema.String, "Vault file (default <state_dir>/vault.json)."),
        key_file: optional(
          Schema.String,
          "Key file, mode 0600 (default <state_dir>/vault.key); SAM_VAULT_KEY wins.",
        ),
      }).annotate({ identifier: "Vault" }),
    ),
    run_as: optional(
      Schema.Struct({ uid: optional(Count), gid: optional(Count) }).annotate({ identifier: "RunAs" }),
    ),
  })
    .annotate({ identifier: "Security" })
    .pipe(withDefault({})),
  monitoring: Schema.Struct({
    metrics: Schema.Struct({
      enabled: Schema.Boolean.pipe(withDefault(true)),
      path: Schema.String.pipe(withDefault("/metrics")),
    }).pipe(withDefault({})),
    logs: Schema.Struct({
      max_lines_per_unit: PositiveCount.pipe(withDefault(1000, "Log lines kept in memory per unit.")),
    }).pipe(withDefault({})),
    alerts: optional(Schema.Record(Schema.String, Schema.Unknown), "Alert rules (free-form, for plugins)."),
  })
    .annotate({ identifier: "Monitoring" })
    .pipe(withDefault({})),
  plugins: Schema.Array(PluginSchema).pipe(withDefault([], "Plugins to load, in order.")),
  supervision: Schema.Struct({
    groups: SupervisionGroups.pipe(
      withDefault({}, 'Supervision groups; "services" and "agents" always exist.'),
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
