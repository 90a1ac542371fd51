// The shapes the control API reads and writes. Field names follow the seed design (`pageSize`,
// `duration_ms`, `timeout_seconds`); fields SAM adds are snake_case like its config. Durations
// named `uptime` are seconds. These schemas validate requests, encode responses and become the
// OpenAPI document (controlApi.ts).
import { Schema } from "effect"
import { lifecycleStates } from "../actors/lifecycleTypes.ts"
import { grepProblem } from "./logQuery.ts"
import { sinceProblem } from "./logSince.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Seconds" })
const Pid = Schema.NullOr(Schema.Int)

/** A `since` query parameter: a duration back or an ISO time (checked with the rest of the query). */
const SinceParam = (description: string) =>
  Schema.String.check(Schema.makeFilter((text: string) => sinceProblem(text) ?? true)).annotate({
    description,
  })

/** A query parameter holding a whole number within bounds. */
const IntParam = (minimum: number, maximum: number, description: string) =>
  Schema.NumberFromString.check(Schema.isInt().abort(), Schema.isBetween({ minimum, maximum })).annotate({
    description,
  })

export const UnitState = Schema.Literals(lifecycleStates).annotate({
  identifier: "UnitState",
  description: "Lifecycle state of the unit (the worst of its instances)",
})

export const Role = Schema.Literals(["viewer", "operator", "admin"])
export type Role = typeof Role.Type

export const HealthCheck = Schema.Struct({
  at: Schema.String,
  instance: Count,
  probe: Schema.String,
  ok: Schema.Boolean,
  detail: Schema.String,
  duration_ms: Schema.Finite,
}).annotate({ identifier: "HealthCheck" })

export const Health = Schema.Struct({
  ready: Schema.Boolean,
  status: Schema.Literals(["healthy", "unhealthy", "unknown"]),
  last: Schema.NullOr(HealthCheck),
  history: Schema.Array(HealthCheck).annotate({
    description: "Recent checks, oldest first (100 per instance)",
  }),
}).annotate({ identifier: "Health" })

export const InstanceView = Schema.Struct({
  instance: Count,
  status: UnitState,
  ready: Schema.Boolean,
  pid: Pid,
  port: Schema.NullOr(Schema.Int),
  restarts: Count,
  uptime: Seconds,
  cpu_percent: Schema.NullOr(Schema.Finite),
  memory_bytes: Schema.NullOr(Count),
  reason: Schema.String,
  next_attempt_at: Schema.NullOr(Schema.String),
}).annotate({ identifier: "InstanceView" })
export type InstanceView = typeof InstanceView.Type

const unitFields = {
  id: Schema.String,
  status: UnitState,
  ready: Schema.Boolean,
  runtime: Schema.String,
  group: Schema.String,
  instances: Count,
  restarts: Count,
  pid: Pid.annotate({ description: "Its first instance's pid (per_instance has each one's)" }),
  uptime: Seconds.annotate({
    description: "Its longest-running instance's uptime (per_instance has each one's)",
  }),
  cpu_percent: Schema.NullOr(Schema.Finite),
  memory_bytes: Schema.NullOr(Count),
  reason: Schema.String.annotate({
    description: "Why the unit is in its state (a delay is not in it: next_attempt_at says when)",
  }),
  completed: Schema.Boolean.annotate({
    description: "A job done: every instance ran and exited 0 (status stopped)",
  }),
  rollout_halted: Schema.NullOr(Schema.String).annotate({
    description:
      "Why its last config change stopped rolling out (an instance did not come up with it), until the next change, stop or restart",
  }),
  watch_paused: Schema.NullOr(Schema.String).annotate({
    description:
      "Why its `watch` is paused (its own writes restarted it in a loop), until its watch config changes or a start or restart",
  }),
  scaled: Schema.NullOr(Schema.String).annotate({
    description:
      "An operator's `sam scale` to another count than the config's, kept across SAM restarts until scaled again or the unit's config changes: by whom, when, and how to return to the config",
  }),
  degraded: Schema.NullOr(
    Schema.Struct({ down: Schema.Number, of: Schema.Number, state: Schema.String }),
  ).annotate({
    description:
      "A unit of several instances that serves (some instance is ready) while some are down: how many of how many, in which state (`status` is then that state, its worst instance's; `sam ps` says `degraded (1 of 2 in backoff)`); null otherwise",
  }),
  readiness_checked: Schema.Boolean.annotate({
    description:
      "false: it has no readiness check (health_check), so `ready` says only that it started, as `sam` words it",
  }),
  next_attempt_at: Schema.NullOr(Schema.String).annotate({
    description: "In backoff, or crashed and retrying: when the next start attempt is due (ISO time)",
  }),
  depends_on: Schema.Array(Schema.String).annotate({ description: "The units it depends on (`depends_on`)" }),
  per_instance: Schema.Array(InstanceView).annotate({
    description:
      "Each instance: its state, pid, port, restarts, uptime and usage (the unit's fields sum or pick from these)",
  }),
  labels: Schema.Struct({
    type: Schema.NullOr(Schema.String).annotate({ description: "The config's `type` (services)" }),
    version: Schema.NullOr(Schema.String).annotate({ description: "The config's `version`" }),
    dependencies: Schema.Array(Schema.String).annotate({
      description: "The config's `dependencies`: library packages the unit uses",
    }),
  }).annotate({
    description: "The config's descriptive fields, shown as configured: SAM does not act on them",
  }),
}

export const Agent = Schema.Struct({
  ...unitFields,
  capabilities: Schema.Array(Schema.String),
}).annotate({ identifier: "Agent" })
export type Agent = typeof Agent.Type

export const Service = Schema.Struct({
  ...unitFields,
  url: Schema.NullOr(Schema.String),
  max_instances: Count.annotate({ description: "Most instances it may run (scaling.max_instances)" }),
  gateway: Schema.NullOr(
    Schema.Struct({
      breaker: Schema.NullOr(
        Schema.Struct({
          state: Schema.Literals(["closed", "open", "half_open"]).annotate({
            description:
              "closed: requests pass; open: the gateway answers 503 itself; half_open: a few probe calls pass, which close or reopen it",
          }),
          since: Schema.String.annotate({ description: "When it entered this state (ISO time)" }),
          reason: Schema.NullOr(Schema.String).annotate({
            description: "Open or half-open: why it last opened (`20 of 20 calls failed in 10 s ...`)",
          }),
          until: Schema.NullOr(Schema.String).annotate({
            description: "Open: when it goes half-open and lets probe calls through (ISO time)",
          }),
        }),
      ).annotate({
        description: "The service's circuit breaker (one per service); null: breaker.enabled false",
      }),
    }),
  ).annotate({
    description:
      "What the gateway holds of the service; null when the gateway does not route it (gateway.enabled false)",
  }),
}).annotate({ identifier: "Service" })
export type Service = typeof Service.Type

export const AgentListQuery = Schema.Struct({
  page: Schema.optionalKey(IntParam(1, 1_000_000, "Page number, from 1 (default 1)")),
  pageSize: Schema.optionalKey(IntParam(1, 500, "Agents per page, 1-500 (default 50)")),
  status: Schema.optionalKey(
    Schema.Literals([...lifecycleStates, "ready", "unready"]).annotate({
      description: "Only agents in this state (or ready / unready)",
    }),
  ),
  capability: Schema.optionalKey(
    Schema.String.annotate({ description: "Only agents offering this capability" }),
  ),
})

export const AgentList = Schema.Struct({
  agents: Schema.Array(Agent),
  total: Count,
  page: Count,
  pageSize: Count,
}).annotate({ identifier: "AgentList" })

export const AgentStatus = Schema.Struct({
  id: Schema.String,
  status: UnitState,
  health: Health,
  metrics: Schema.Struct({
    restarts: Count,
    instances: Count,
    pid: Pid,
    cpu_percent: Schema.NullOr(Schema.Finite),
    memory_bytes: Schema.NullOr(Count),
    in_flight: Count.annotate({ description: "Invocations being served now" }),
  }),
  uptime: Seconds,
}).annotate({ identifier: "AgentStatus" })

export const ServiceList = Schema.Struct({
  services: Schema.Array(Service),
  total: Count,
  dependencies: Schema.Record(Schema.String, Schema.Array(Schema.String)).annotate({
    description: "The dependency graph: each unit id and the ids it depends on",
  }),
}).annotate({ identifier: "ServiceList" })

export const ServiceHealth = Schema.Struct({
  id: Schema.String,
  status: UnitState,
  health: Health,
  endpoints: Schema.Array(
    Schema.Struct({
      instance: Count,
      status: UnitState,
      ready: Schema.Boolean,
      url: Schema.NullOr(Schema.String),
      port: Schema.NullOr(Schema.Int),
      pid: Pid,
    }),
  ),
  dependencies: Schema.Array(Schema.Struct({ id: Schema.String, status: UnitState, ready: Schema.Boolean })),
}).annotate({ identifier: "ServiceHealth" })

const Timeout = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(3600))

export const StartBody = Schema.Struct({
  config: Schema.optionalKey(
    Schema.Record(Schema.String, Schema.Unknown).annotate({
      description: "Per-start config overrides (not supported yet: change the config and reload)",
    }),
  ),
  force: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Restart the agent if it is already running" }),
  ),
}).annotate({ identifier: "StartBody" })

export const StopBody = Schema.Struct({
  graceful: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "false kills at once (SIGKILL); default true" }),
  ),
  timeout: Schema.optionalKey(
    Timeout.annotate({ description: "Seconds to wait before killing (default: the unit's grace)" }),
  ),
}).annotate({ identifier: "StopBody" })

export const ScaleBody = Schema.Struct({
  instances: Schema.Int.annotate({
    description: "How many instances to run: 0 to the service's scaling.max_instances",
  }),
}).annotate({ identifier: "ScaleBody" })

export const SystemCounts = Schema.Struct({
  total: Count,
  running: Count,
  stopped: Count,
  error: Count.annotate({ description: "error, backoff or crashed" }),
  other: Count.annotate({ description: "starting, stopping or suspended" }),
})

export const WatchdogFinding = Schema.Struct({
  check: Schema.Literals(["event_loop", "memory", "stuck_transitions", "reaper"]),
  status: Schema.Literals(["ok", "warning", "critical"]),
  detail: Schema.String,
}).annotate({ identifier: "WatchdogFinding" })

export const Watchdog = Schema.Struct({
  event_loop_lag_ms: Schema.Finite.annotate({ description: "The largest event-loop lag in the last second" }),
  rss_bytes: Count,
  heap_used_bytes: Count,
  heap_limit_bytes: Count,
  stuck: Schema.Array(
    Schema.Struct({
      unit: Schema.String,
      instance: Count,
      state: Schema.Literals(["starting", "stopping"]),
      since: Schema.String,
      seconds: Seconds,
      bound_seconds: Seconds,
    }),
  ).annotate({ description: "Instances in starting or stopping past their bound" }),
  reaper: Schema.NullOr(Schema.Struct({ pid: Schema.Int, alive: Schema.Boolean })).annotate({
    description: "SAM's reaper (null: none, containment is off)",
  }),
  findings: Schema.Array(WatchdogFinding),
}).annotate({ identifier: "Watchdog" })

export const SystemStatus = Schema.Struct({
  timestamp: Schema.String,
  uptime: Seconds,
  version: Schema.String,
  agents: SystemCounts,
  services: SystemCounts,
  resources: Schema.Struct({
    memory: Schema.Struct({ total_bytes: Count, free_bytes: Count, sam_rss_bytes: Count }),
    cpu: Schema.Struct({
      cores: Count,
      load_average: Schema.Array(Schema.Finite),
      sam_percent: Schema.NullOr(Schema.Finite),
    }),
    disk: Schema.Struct({
      path: Schema.String,
      total_bytes: Schema.NullOr(Count),
      free_bytes: Schema.NullOr(Count),
    }),
  }),
  health: Schema.Literals(["healthy", "degraded", "unhealthy"]).annotate({
    description:
      "healthy: every started unit is ready and the watchdog found nothing; unhealthy: a unit crashed or a " +
      "critical watchdog finding (the reaper is gone); degraded otherwise",
  }),
  watchdog: Schema.optionalKey(
    Watchdog.annotate({ description: "SAM watching itself (absent without monitoring)" }),
  ),
}).annotate({ identifier: "SystemStatus" })

const Point = Schema.Tuple([Schema.Finite, Schema.Finite]).annotate({
  description: "[time (epoch milliseconds), value]",
})

export const UnitMetrics = Schema.Struct({
  id: Schema.String,
  interval_seconds: Seconds.annotate({ description: "Time between points" }),
  series: Schema.Struct({
    cpu_percent: Schema.Array(Point).annotate({ description: "CPU of all instances, percent of one core" }),
    memory_bytes: Schema.Array(Point).annotate({ description: "Resident memory of all instances' trees" }),
    requests_per_second: Schema.Array(Point).annotate({
      description: "Gateway requests (services) or capability invocations (agents) per second",
    }),
  }),
}).annotate({ identifier: "UnitMetrics" })

export const AlertView = Schema.Struct({
  id: Schema.NullOr(Schema.Int).annotate({
    description: "Its row in the alert history (null: pending, or no store)",
  }),
  rule: Schema.String,
  unit: Schema.NullOr(Schema.String),
  state: Schema.Literals(["pending", "firing", "resolved"]),
  started_at: Schema.String.annotate({
    description: "pending: when the condition began; else when it fired",
  }),
  ended_at: Schema.NullOr(Schema.String),
  labels: Schema.Record(Schema.String, Schema.String),
  annotations: Schema.Record(Schema.String, Schema.String),
}).annotate({ identifier: "Alert" })

export const AlertList = Schema.Struct({
  active: Schema.Array(AlertView).annotate({ description: "Firing alerts, then pending ones" }),
  recent: Schema.Array(AlertView).annotate({
    description: "Alerts that fired, newest first (firing or resolved)",
  }),
  rules: Schema.Array(Schema.Struct({ name: Schema.String, when: Schema.String })),
}).annotate({ identifier: "AlertList" })

export const AlertListQuery = Schema.Struct({
  limit: Schema.optionalKey(IntParam(1, 1000, "Recent alerts listed (default 50)")),
})

export const InvokeBody = Schema.Struct({
  input: Schema.Unknown.annotate({ description: "Passed to the agent as is" }),
  timeout_seconds: Schema.optionalKey(Timeout.annotate({ description: "Deadline (default 60)" })),
}).annotate({ identifier: "InvokeBody" })

export const InvokeResult = Schema.Struct({
  output: Schema.Unknown,
  agent: Schema.String.annotate({ description: "The agent instance that served the call" }),
  duration_ms: Count,
}).annotate({ identifier: "InvokeResult" })

export const CapabilityProvider = Schema.Struct({
  unit: Schema.String.annotate({ description: "The agent offering it, or plugin:<name>" }),
  instance: Count,
  state: Schema.String.annotate({ description: "The instance's lifecycle state (running for a plugin)" }),
  ready: Schema.Boolean.annotate({ description: "Whether SAM routes calls to it now" }),
  in_flight: Count.annotate({ description: "Invocations it is serving now" }),
}).annotate({ identifier: "CapabilityProvider" })

export const CapabilityList = Schema.Struct({
  capabilities: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      description: Schema.NullOr(Schema.String).annotate({
        description:
          "What it does, from its agent's defineAgent capability definition (`description`); null when none says",
      }),
      providers: Schema.Array(CapabilityProvider).annotate({
        description:
          "Every provider: the instances offering it now, and the configured agents declaring it that are not up",
      }),
      available: Schema.Boolean.annotate({ description: "Whether any provider is ready" }),
    }),
  ).annotate({ description: "Sorted by name" }),
}).annotate({ identifier: "CapabilityList" })
export type CapabilityList = typeof CapabilityList.Type

export const PluginStatus = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  status: Schema.String.annotate({ description: "loading, running, failed or stopped" }),
  error: Schema.optionalKey(Schema.String),
  source: Schema.optionalKey(Schema.String),
  reloads: Schema.optionalKey(Count),
  dependsOn: Schema.optionalKey(Schema.Array(Schema.String)),
}).annotate({ identifier: "PluginStatus" })

export const PluginList = Schema.Struct({ plugins: Schema.Array(PluginStatus) }).annotate({
  identifier: "PluginList",
})

const unitIds = Schema.Array(Schema.String)

/** What a config reload did (POST /api/config/reload); an invalid config is a ConfigInvalid problem. */
export const ReloadResult = Schema.Struct({
  ok: Schema.Boolean,
  at: Schema.optionalKey(Schema.String),
  changed: Schema.optionalKey(Schema.Boolean),
  added: Schema.optionalKey(unitIds),
  removed: Schema.optionalKey(unitIds),
  restarted: Schema.optionalKey(unitIds),
  reconfigured: Schema.optionalKey(unitIds),
  started: Schema.optionalKey(
    unitIds.annotate({
      description:
        "Units an operator had stopped whose config changed: the change ends the stop, and they were started with it",
    }),
  ),
  scaled: Schema.optionalKey(
    Schema.Array(Schema.Struct({ unit: Schema.String, instances: Schema.Number })).annotate({
      description:
        "Units whose instance count the config changed, scaled to it (instances added or drained; the others untouched)",
    }),
  ),
  unchanged: Schema.optionalKey(unitIds),
  groupsReconfigured: Schema.optionalKey(unitIds),
  plugins: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Plugins loaded, unloaded or set up again (the plugins: list and the plugins/ folder)",
    }),
  ),
  settings: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description:
        "SAM's own settings now in effect (runtime.log_level, monitoring.alerts, security.api_tokens)",
    }),
  ),
  restartNeeded: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Settings changed in the config that SAM reads only when it starts (api.port, ...)",
    }),
  ),
  failures: Schema.optionalKey(Schema.Array(Schema.Struct({ unit: Schema.String, error: Schema.String }))),
}).annotate({ identifier: "ReloadResult" })

/** Who is calling (GET /api/session): the dashboard shows action controls by this role. */
/** POST /api/shutdown: SAM has begun to stop (its units, then itself). */
export const ShutdownAccepted = Schema.Struct({
  stopping: Schema.Literal(true),
  pid: Schema.Number.annotate({ description: "SAM's process id: gone once SAM has stopped" }),
})

export const SessionInfo = Schema.Struct({
  name: Schema.String.annotate({ description: "The token's name (its key in security.api_tokens)" }),
  role: Role,
}).annotate({ identifier: "SessionInfo" })

export const EventsQuery = Schema.Struct({
  usage: Schema.optionalKey(
    Schema.Literals(["true", "false"]).annotate({
      description:
        "true: also send a `usage` event (no id) every 2 s: {at, units: [{id, cpu_percent, memory_bytes, requests_per_second?}]}; `requests_per_second` (gateway requests over the last 5 s) for services the gateway routes, (capability invocations over the last 5 s) for agents",
    }),
  ),
  recent: Schema.optionalKey(
    IntParam(0, 1000, "The snapshot also carries the last this many events (`recent`, oldest first)"),
  ),
})

export const StreamEvent = Schema.Unknown.annotate({
  description:
    "`snapshot` (every unit), then SAM events by type (transition, health, supervisor, plugin ..., alert ...); " +
    "`usage` when asked for; `shutdown` when SAM closes the stream",
})

export const LogLine = Schema.Struct({
  seq: Count.annotate({ description: "The line's number in its unit's log (the SSE event id)" }),
  time: Schema.String.annotate({ description: "When SAM read the line (ISO)" }),
  instance: Count,
  stream: Schema.Literals(["stdout", "stderr", "sam"]).annotate({
    description: "`sam`: a note of SAM's in the unit's log (lines it had to drop)",
  }),
  line: Schema.String,
  fields: Schema.optionalKey(
    Schema.Record(Schema.String, Schema.Unknown).annotate({
      description: "The line's fields, when the unit printed a JSON object",
    }),
  ),
}).annotate({ identifier: "LogLine" })
export type LogLine = typeof LogLine.Type

export const UnitLog = Schema.Struct({
  id: Schema.String,
  lines: Schema.Array(LogLine).annotate({ description: "Oldest first" }),
  last_seq: Count.annotate({
    description: "The seq of the unit's newest line: follow from here with Last-Event-ID",
  }),
}).annotate({ identifier: "UnitLog" })

export const LogQuery = Schema.Struct({
  lines: Schema.optionalKey(IntParam(0, 100_000, "The last this many matching lines (default 100)")),
  since: Schema.optionalKey(SinceParam("Only lines since: a duration back (10m, 1h30m, 2d) or an ISO time")),
  grep: Schema.optionalKey(
    Schema.String.check(Schema.makeFilter((pattern: string) => grepProblem(pattern) ?? true)).annotate({
      description:
        "Only lines matching this regular expression (RE2 syntax: no back-references or lookaround)",
    }),
  ),
  stream: Schema.optionalKey(Schema.Literals(["stdout", "stderr"])),
  instance: Schema.optionalKey(IntParam(0, 100_000, "Only lines of this instance")),
  follow: Schema.optionalKey(
    Schema.Literals(["true", "false"]).annotate({
      description: "true: answer Server-Sent Events, the matching history first, then lines as they come",
    }),
  ),
})

export const CrashLine = Schema.Struct({
  time: Schema.String,
  stream: Schema.String,
  line: Schema.String,
}).annotate({ identifier: "CrashLine" })

const crashFields = {
  id: Count,
  unit: Schema.String,
  instance: Count,
  time: Schema.String.annotate({ description: "When it failed (ISO)" }),
  failure: Schema.String.annotate({
    description:
      "exit, the limit it was killed for (liveness, heartbeat, memory, ...), or setup (an agent's setup threw)",
  }),
  exit_code: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  reason: Schema.String,
  uptime_ms: Count,
  restarts: Count.annotate({ description: "Restarts of the instance before this failure" }),
}

export const CrashSummary = Schema.Struct(crashFields).annotate({ identifier: "CrashSummary" })

export const CrashReport = Schema.Struct({
  ...crashFields,
  last_lines: Schema.Array(CrashLine).annotate({
    description: "The incarnation's last lines of output (both streams, up to 50), oldest first",
  }),
  resources: Schema.Record(Schema.String, Schema.Unknown).annotate({
    description: "rss_bytes and cpu_seconds when last sampled (null when no sample was taken)",
  }),
}).annotate({ identifier: "CrashReport" })

export const CrashList = Schema.Struct({
  crashes: Schema.Array(CrashSummary).annotate({ description: "Newest first" }),
}).annotate({ identifier: "CrashList" })

export const CrashListQuery = Schema.Struct({
  unit: Schema.optionalKey(
    Schema.String.annotate({ description: "Only this unit's reports; `web#1`: only instance 1 of web" }),
  ),
  since: Schema.optionalKey(SinceParam("Only reports since: a duration back (10m, 2d) or an ISO time")),
  limit: Schema.optionalKey(IntParam(1, 1000, "At most this many (default 50)")),
})
