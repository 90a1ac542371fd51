// Checks that span fields or units, run on the merged (undecoded) config so they are reported
// together with schema errors: unit ids, depends_on targets and cycles, fixed ports, deployment
// modes, scaling bounds, supervision groups, health check requirements, watch on units that run
// no process and API token lengths. Pure.

import { findCycles, missingDependencies } from "../graph/dependencyGraph.ts"
import { alertChecks, alertWarnings } from "./alertRules.ts"
import { type ConfigPath, describeValue, formatPath, isRecord } from "./configPath.ts"
import { cronProblem } from "./cronSchedule.ts"
import { dependencyConditions, dependencyEntries, dependencyIds } from "./dependsOn.ts"
import { BUILTIN_PROBE_TYPES } from "./healthCheck.ts"
import type { IssueDraft } from "./issueDraft.ts"
import { linePatternProblem } from "./linePattern.ts"
import { placeholderProblem } from "./placeholders.ts"
import { suggestionSuffix } from "./suggest.ts"
import { checkApiTokens, checkTokenHandouts } from "./tokenChecks.ts"

/** Top-level paths of the control API; a unit with one of these ids would shadow it. */
export const RESERVED_IDS = [
  "agents",
  "services",
  "status",
  "events",
  "plugins",
  "capabilities",
  "openapi.json",
  "config",
  "health",
  "metrics",
  "audit",
  "crashes",
  "session",
  "alerts",
  "logs",
  "shutdown",
] as const

export const UNIT_ID = /^[A-Za-z][A-Za-z0-9_-]*$/

type Kind = "agents" | "services"

interface Unit {
  readonly kind: Kind
  readonly id: string
  readonly value: Record<string, unknown>
}

const unitsOf = (raw: Record<string, unknown>, kind: Kind): Array<Unit> => {
  const section = raw[kind]
  if (!isRecord(section)) return []
  return Object.entries(section)
    .filter((e): e is [string, Record<string, unknown>] => isRecord(e[1]))
    .map(([id, value]) => ({ kind, id, value }))
}

const strings = (value: unknown): Array<string> =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []

const checkIds = (units: ReadonlyArray<Unit>, out: Array<IssueDraft>) => {
  const agentIds = new Set(units.filter((u) => u.kind === "agents").map((u) => u.id))
  for (const unit of units) {
    const path = [unit.kind, unit.id]
    if (!UNIT_ID.test(unit.id)) {
      out.push({
        path,
        atKey: true,
        message: `id "${unit.id}" must start with a letter and use only letters, digits, _ and -`,
      })
    }
    if ((RESERVED_IDS as ReadonlyArray<string>).includes(unit.id)) {
      out.push({
        path,
        atKey: true,
        message: `id "${unit.id}" is reserved by the control API (/${unit.id}); choose another id`,
      })
    }
    if (unit.kind === "services" && agentIds.has(unit.id)) {
      out.push({
        path,
        atKey: true,
        message: `id "${unit.id}" is used by both an agent and a service; ids must be unique`,
      })
    }
  }
}

const checkDependsOn = (units: ReadonlyArray<Unit>, out: Array<IssueDraft>, warnings: Array<string>) => {
  const byId = new Map(units.map((u) => [u.id, u]))
  const nodes = units.map((u) => ({ id: u.id, dependsOn: dependencyIds(u.value.depends_on) }))
  for (const { id, dependency, index } of missingDependencies(nodes)) {
    const unit = byId.get(id) as Unit
    const at = dependencyEntries(unit.value.depends_on)[index]?.at ?? index
    out.push({
      path: [unit.kind, unit.id, "depends_on", at],
      message: `depends on "${dependency}", which is no agent or service${suggestionSuffix(dependency, byId.keys())}`,
    })
  }
  for (const unit of units)
    for (const { id: target, at } of dependencyEntries(unit.value.depends_on)) {
      const dep = byId.get(target)
      if (dep !== undefined && dep.value.enabled === false && unit.value.enabled !== false)
        warnings.push(
          `${formatPath([unit.kind, unit.id, "depends_on", at])}: depends on "${target}", which is disabled; the dependency is ignored`,
        )
    }
  // A job waited for with service_completed_successfully under `always` (the default) is started
  // again at each exit, and so never completes: said, as Compose's default is not to restart.
  for (const unit of units)
    for (const [target, condition] of Object.entries(dependencyConditions(unit.value.depends_on))) {
      const dep = byId.get(target)
      if (condition !== "service_completed_successfully" || dep === undefined) continue
      const policy = dep.value.restart_policy
      const type = isRecord(policy) ? policy.type : policy
      if (type === undefined || type === "always" || type === "permanent")
        warnings.push(
          `${formatPath([unit.kind, unit.id, "depends_on", target])}: waits for "${target}" to complete, but ${target}'s restart_policy is ${String(type ?? "always (the default)")}: it is started again at every exit, so ${unit.id} never starts; give ${target} restart_policy: on-failure (or never)`,
        )
    }
  // Waiting for a service to be ready that has no readiness check is waiting for it to start:
  // said, with what would make the wait mean something (agents are ready once their module runs).
  for (const unit of units) {
    const conditions = dependencyConditions(unit.value.depends_on)
    for (const { id: target, at } of dependencyEntries(unit.value.depends_on)) {
      const dep = byId.get(target)
      if (dep === undefined || dep.kind !== "services" || conditions[target] !== undefined) continue
      if (dep.value.enabled === false || unit.value.enabled === false) continue
      const check = dep.value.health_check
      const kind = isRecord(check) ? check.kind : undefined
      if (check !== undefined && kind !== "liveness") continue
      warnings.push(
        `${formatPath([unit.kind, unit.id, "depends_on", at])}: waits for "${target}" to be ready, but ${target} has no readiness check${check === undefined ? "" : " (its health_check is liveness only)"}: it counts as ready once it has started; give ${target} a health_check for ${unit.id} to wait until it answers (or say condition: service_started)`,
      )
    }
  }
  for (const cycle of findCycles(nodes)) {
    const first = byId.get(cycle.cycle[0] as string) as Unit
    out.push({ path: [first.kind, first.id, "depends_on"], message: cycle.message })
  }
}

/** The host port of a container mapping ("8080:80", "127.0.0.1:8080:80/tcp"), if it fixes one. */
export const hostPort = (mapping: string): number | undefined => {
  const parts = mapping.replace(/\/(tcp|udp|sctp)$/, "").split(":")
  if (parts.length < 2) return undefined
  const host = parts[parts.length - 2]!
  return /^\d+$/.test(host) ? Number(host) : undefined
}

const portNumber = (value: unknown): number | undefined => {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === "number" && Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined
}

const checkPorts = (raw: Record<string, unknown>, units: ReadonlyArray<Unit>, out: Array<IssueDraft>) => {
  // `what` says how a scaled instance's port came about (`48160 + instance 1`), where it is not the value itself.
  const claims: Array<{ owner: string; port: number; path: ConfigPath; what?: string }> = []
  const claim = (owner: string, port: number | undefined, path: ConfigPath, what?: string) => {
    if (port !== undefined) claims.push({ owner, port, path, ...(what === undefined ? {} : { what }) })
  }
  const described = (c: { path: ConfigPath; what?: string }) =>
    `${formatPath(c.path)}${c.what === undefined ? "" : ` (${c.what})`}`
  if (isRecord(raw.api)) claim("api", portNumber(raw.api.port), ["api", "port"])
  for (const unit of units) {
    if (unit.value.enabled === false) continue
    const owner = `${unit.kind}.${unit.id}`
    if (unit.kind === "agents") {
      if (isRecord(unit.value.environment))
        claim(owner, portNumber(unit.value.environment.PORT), [unit.kind, unit.id, "environment", "PORT"])
      continue
    }
    const d = unit.value.deployment
    if (!isRecord(d)) continue
    const at = [unit.kind, unit.id, "deployment"]
    claim(owner, portNumber(d.port), [...at, "port"])
    if (isRecord(d.env)) claim(owner, portNumber(d.env.PORT), [...at, "env", "PORT"])
    if (Array.isArray(d.ports)) {
      const mine = new Map<number, number>()
      d.ports.forEach((p, i) => {
        const port = typeof p === "string" ? hostPort(p) : undefined
        if (port === undefined) return
        const prior = mine.get(port)
        if (prior !== undefined) {
          out.push({
            path: [...at, "ports", i],
            message: `host port ${port} is also mapped by ${formatPath([...at, "ports", prior])}`,
          })
        } else mine.set(port, i)
        claim(owner, port, [...at, "ports", i])
      })
    }
    const scaling = unit.value.scaling
    // Only a count the schema takes: a 2.5 is its own problem, not one more about the port too.
    const count = isRecord(scaling) ? scaling.min_instances : undefined
    const min = typeof count === "number" && Number.isSafeInteger(count) ? count : 1
    const fixed = portNumber(d.port) ?? (isRecord(d.env) ? portNumber(d.env.PORT) : undefined)
    if (min > 1 && fixed !== undefined && d.mode === "process") {
      out.push({
        path: [...at, "port"],
        message: `fixed port ${fixed} cannot be shared by ${min} instances (scaling.min_instances)`,
      })
    }
    // Instance N of a scaled service listens on deployment.port + N: each of those is its port too.
    const base = portNumber(d.port)
    const most = isRecord(scaling) ? scaling.max_instances : undefined
    const max = typeof most === "number" && Number.isSafeInteger(most) ? Math.max(most, min) : min
    if (base !== undefined && d.mode !== "external")
      for (let i = 1; i < Math.min(max, 65536 - base); i++)
        claim(owner, base + i, [...at, "port"], `${base} + instance ${i}, as scaling.max_instances is ${max}`)
  }
  const firstClaim = new Map<number, (typeof claims)[number]>()
  for (const c of claims) {
    const prior = firstClaim.get(c.port)
    // A unit naming the same port twice (deployment.port and env PORT) claims it once.
    if (prior === undefined) firstClaim.set(c.port, c)
    else if (prior.owner !== c.owner) {
      out.push({
        path: c.path,
        message: `port ${c.port}${c.what === undefined ? "" : ` (${c.what})`} is also used by ${described(prior)}`,
      })
    }
  }
}

const checkDeployment = (unit: Unit, out: Array<IssueDraft>) => {
  const d = unit.value.deployment
  if (!isRecord(d)) return
  const at = [unit.kind, unit.id, "deployment"]
  const need = (key: string, why: string) => {
    if (d[key] === undefined)
      out.push({ path: [...at, key], message: `required when mode is "${d.mode}" (${why})` })
  }
  // SAM measures the process trees it starts; a container's or an external service's it does not.
  const resources = unit.value.resources
  if (d.mode !== "process" && isRecord(resources) && resources.max_memory_mb !== undefined)
    out.push({
      path: [unit.kind, unit.id, "resources", "max_memory_mb"],
      message: `applies to services of mode "process" only (SAM measures the processes it starts), not "${String(d.mode)}"`,
    })
  if (d.mode === "process") need("command", "the executable to run")
  if (d.mode === "container") need("image", "the image to run")
  if (d.mode === "external") {
    need("url", "where the service is reached")
    // An empty url is the schema's to report (non-empty string).
    if (typeof d.url === "string" && d.url !== "" && !d.url.includes("${") && !URL.canParse(d.url)) {
      out.push({
        path: [...at, "url"],
        message: "not a valid URL",
        expected: "an absolute URL like http://host:port",
        found: describeValue(d.url),
      })
    }
  }
}

const AUTOSCALE_METRICS = ["cpu_threshold", "target_in_flight"] as const
const AUTOSCALE_TIMINGS = ["scale_up_seconds", "scale_down_seconds", "cooldown_seconds"] as const

const checkScaling = (unit: Unit, out: Array<IssueDraft>, warnings: Array<string>) => {
  const s = unit.value.scaling
  if (!isRecord(s)) return
  const at = [unit.kind, unit.id, "scaling"]
  const min = typeof s.min_instances === "number" ? s.min_instances : 1
  // A max the schema refuses (0, 1.5) is reported there only.
  const max =
    typeof s.max_instances === "number" && Number.isInteger(s.max_instances) && s.max_instances >= 1
      ? s.max_instances
      : undefined
  if (max !== undefined && min > max) {
    out.push({
      path: [...at, "max_instances"],
      message: `max_instances (${max}) is below min_instances (${min})`,
    })
    return
  }
  const metrics = AUTOSCALE_METRICS.filter((key) => s[key] !== undefined)
  // An autoscaler with no room to move, or timings with no autoscaler, would be silently inert.
  // The autoscaler never goes below one instance (0 is for the operator or start-on-demand).
  const lowest = Math.max(min, 1)
  if (metrics.length > 0 && (max ?? min) <= lowest) {
    const setting = max === undefined ? `is not set (it defaults to min_instances, ${min})` : `is ${max}`
    for (const key of metrics)
      warnings.push(
        `${formatPath([...at, key])}: has no effect: max_instances ${setting}, so the autoscaler has no room above ${lowest}; raise scaling.max_instances`,
      )
  }
  if (metrics.length === 0)
    for (const key of AUTOSCALE_TIMINGS)
      if (s[key] !== undefined)
        warnings.push(
          `${formatPath([...at, key])}: has no effect without scaling.cpu_threshold or scaling.target_in_flight`,
        )
  const d = unit.value.deployment
  const hostPorts =
    isRecord(d) && d.mode === "container" && Array.isArray(d.ports)
      ? d.ports.flatMap((p) => (typeof p === "string" && hostPort(p) !== undefined ? [hostPort(p)] : []))
      : []
  if (max !== undefined && max > 1 && hostPorts.length > 0)
    warnings.push(
      `${formatPath([...at, "max_instances"])}: a container mapping fixed host ports (${hostPorts.join(", ")}) ` +
        "runs one instance at most: every instance beyond the first would fail to bind them",
    )
}

/** The gateway keys that only mean something together with others. */
/** The most of a service's `configuration` SAM hands over in one environment variable (Linux caps one at 128 KiB). */
export const maxConfigurationBytes = 64 * 1024

/** `configuration` reaches a process or container as SAM_SERVICE_CONFIGURATION; an external service gets nothing. */
const checkConfiguration = (unit: Unit, issues: Array<IssueDraft>, warnings: Array<string>) => {
  const configuration = unit.value.configuration
  if (configuration === undefined) return
  const at = [unit.kind, unit.id, "configuration"]
  const d = unit.value.deployment
  if (isRecord(d) && d.mode === "external") {
    warnings.push(
      `${formatPath(at)}: has no effect on an external service (SAM does not start it, so nothing receives it)`,
    )
    return
  }
  const bytes = Buffer.byteLength(JSON.stringify(configuration) ?? "")
  if (bytes > maxConfigurationBytes)
    issues.push({
      path: at,
      message: `is ${bytes} bytes as JSON, more than the ${maxConfigurationBytes} SAM passes in SAM_SERVICE_CONFIGURATION; put it in a file and pass its path (deployment.args or deployment.env)`,
    })
}

const checkGateway = (unit: Unit, warnings: Array<string>) => {
  const s = unit.value.scaling
  const min = isRecord(s) && typeof s.min_instances === "number" ? s.min_instances : 1
  if (isRecord(s) && s.idle_seconds !== undefined && min !== 0)
    warnings.push(
      `${formatPath([unit.kind, unit.id, "scaling", "idle_seconds"])}: has no effect unless min_instances is 0 (a service started on demand)`,
    )
  const g = unit.value.gateway
  if (!isRecord(g)) return
  if (g.weights !== undefined && g.balance !== "weighted")
    warnings.push(
      `${formatPath([unit.kind, unit.id, "gateway", "weights"])}: has no effect unless balance is "weighted"`,
    )
  if (g.hash !== undefined && g.balance !== "hash")
    warnings.push(
      `${formatPath([unit.kind, unit.id, "gateway", "hash"])}: has no effect unless balance is "hash"`,
    )
}

const checkGroup = (raw: Record<string, unknown>, unit: Unit, out: Array<IssueDraft>) => {
  if (typeof unit.value.group !== "string") return
  const supervision = raw.supervision
  const defined = isRecord(supervision) && isRecord(supervision.groups) ? Object.keys(supervision.groups) : []
  const known = new Set(["services", "agents", ...defined])
  if (!known.has(unit.value.group)) {
    out.push({
      path: [unit.kind, unit.id, "group"],
      message: `no supervision group "${unit.value.group}" (define it under supervision.groups)${suggestionSuffix(unit.value.group, known)}`,
    })
  }
}

const checkHealthCheck = (unit: Unit, out: Array<IssueDraft>, warnings: Array<string>) => {
  const h = unit.value.health_check
  if (!isRecord(h)) return
  const at = [unit.kind, unit.id, "health_check"]
  if (
    h.type === undefined &&
    h.endpoint === undefined &&
    h.command === undefined &&
    h.log_line === undefined &&
    h.port === undefined
  ) {
    out.push({
      path: at,
      message:
        'needs an endpoint (http), a command (exec), a log_line (log), a port (tcp) or type: "heartbeat"',
    })
  }
  if (h.type === "http" && h.endpoint === undefined)
    out.push({ path: [...at, "endpoint"], message: 'required for type "http"' })
  // fromConfig.ts probeSpec: an agent's http check is its health() hook over IPC.
  if (unit.kind === "agents" && h.endpoint !== undefined && (h.type === undefined || h.type === "http"))
    warnings.push(
      `${formatPath([...at, "endpoint"])}: not used: an agent has no port, so its check asks the agent's health() hook over IPC (type: heartbeat)`,
    )
  if (h.type === "exec" && h.command === undefined)
    out.push({ path: [...at, "command"], message: 'required for type "exec"' })
  const logCheck =
    h.type === "log" ||
    (h.type === undefined && h.endpoint === undefined && h.command === undefined && h.log_line !== undefined)
  if (h.type === "log" && h.log_line === undefined)
    out.push({ path: [...at, "log_line"], message: 'required for type "log"' })
  if (h.log_line !== undefined && !logCheck)
    out.push({
      path: [...at, "log_line"],
      message: `only for type "log" (this check is ${String(h.type ?? (h.endpoint !== undefined ? "http" : "exec"))})`,
    })
  // SAM tests every output line against it on its own event loop, with RE2 (linePattern.ts).
  const problem = typeof h.log_line === "string" ? linePatternProblem(h.log_line) : undefined
  if (problem !== undefined) out.push({ path: [...at, "log_line"], message: problem })
  if (typeof h.log_line === "string" && /^\/.+\/[a-z]*$/.test(h.log_line))
    warnings.push(
      `${formatPath([...at, "log_line"])}: "${h.log_line}" is matched with its slashes: write the pattern without them (flags cannot be given)`,
    )
  // A log check reads no endpoint or command: one written beside it does nothing.
  if (logCheck)
    for (const key of ["endpoint", "command"] as const)
      if (h[key] !== undefined)
        out.push({ path: [...at, key], message: `not for a log check (it reads only log_line)` })
  if (logCheck && h.kind === "liveness")
    out.push({
      path: [...at, "kind"],
      message: "a log check gates readiness only (a line once seen stays seen)",
    })
}

const checkRestartPolicy = (unit: Unit, out: Array<IssueDraft>, warnings: Array<string>) => {
  const r = unit.value.restart_policy
  const neverRestarts = isRecord(r) && (r.enabled === false || r.type === "never" || r.type === "temporary")
  if (neverRestarts && r.on_exhausted !== undefined) {
    warnings.push(
      `${formatPath([unit.kind, unit.id, "restart_policy", "on_exhausted"])}: has no effect, the unit is never restarted`,
    )
  }
  if (!isRecord(r) || typeof r.backoff_seconds !== "number" || typeof r.max_backoff_seconds !== "number")
    return
  if (r.backoff_seconds > r.max_backoff_seconds) {
    out.push({
      path: [unit.kind, unit.id, "restart_policy", "backoff_seconds"],
      message: `backoff_seconds (${r.backoff_seconds}) is above max_backoff_seconds (${r.max_backoff_seconds})`,
    })
  }
}

const checkPlugins = (raw: Record<string, unknown>, out: Array<IssueDraft>) => {
  if (!Array.isArray(raw.plugins)) return
  raw.plugins.forEach((plugin, i) => {
    if (isRecord(plugin) && (plugin.path === undefined) === (plugin.package === undefined)) {
      out.push({ path: ["plugins", i], message: "set exactly one of path or package" })
    }
  })
}

/** A health check kind SAM does not ship must come from a plugin: say so before it fails at run time. */
const checkProbeKind = (unit: Unit, warnings: Array<string>) => {
  const check = unit.value.health_check
  if (!isRecord(check) || typeof check.type !== "string") return
  if ((BUILTIN_PROBE_TYPES as ReadonlyArray<string>).includes(check.type)) return
  warnings.push(
    `${formatPath([unit.kind, unit.id, "health_check", "type"])}: "${check.type}" is not a built-in kind` +
      `${suggestionSuffix(check.type, BUILTIN_PROBE_TYPES)}; it must be registered by a plugin`,
  )
}

/**
 * A limit the agent's runtime cannot enforce (docs/AGENTS.md's table): an inline agent is SAM's
 * own code (no memory or CPU of its own), a worker thread shares SAM's CPU. Said, not silent.
 */
const checkAgentLimits = (raw: Record<string, unknown>, unit: Unit, warnings: Array<string>) => {
  if (unit.kind !== "agents") return
  const defaults = isRecord(raw.runtime) ? raw.runtime.default_agent_runtime : undefined
  const runtime = unit.value.runtime ?? defaults ?? "sandbox"
  // An inline agent shares SAM's event loop: nothing can miss a heartbeat (its interval still
  // paces the health() hook).
  if (
    runtime === "inline" &&
    isRecord(unit.value.heartbeat) &&
    unit.value.heartbeat.ttl_seconds !== undefined
  )
    warnings.push(
      `${formatPath([unit.kind, unit.id, "heartbeat", "ttl_seconds"])}: not enforced for an inline agent (it runs on SAM's own event loop, so it sends no heartbeat; interval_seconds only paces its health() hook); use runtime "process", "sandbox" or "worker" for a stuck agent to be killed`,
    )
  if (!isRecord(unit.value.resources)) return
  const unenforced =
    runtime === "inline"
      ? ["max_memory_mb", "max_cpu_percent"]
      : runtime === "worker"
        ? ["max_cpu_percent"]
        : []
  for (const key of unenforced) {
    if (unit.value.resources[key] === undefined) continue
    warnings.push(
      `${formatPath([unit.kind, unit.id, "resources", key])}: not enforced for a${runtime === "inline" ? "n inline agent (it runs in SAM's own process)" : " worker agent (its thread shares SAM's CPU)"}; use runtime "process" or "sandbox" for it to be enforced`,
    )
  }
}

/** Whether a unit's raw `watch` turns watching on (true, or an object not `enabled: false`). */
const watchesFiles = (watch: unknown): boolean =>
  watch === true || (isRecord(watch) && watch.enabled !== false)

/** Only a process SAM starts from files can be restarted when they change. */
/** A cron_restart croner cannot read, or one that never comes again, is refused with croner's reason. */
const checkCronRestart = (unit: Unit, out: Array<IssueDraft>) => {
  const pattern = unit.value.cron_restart
  if (typeof pattern !== "string" || pattern.trim() === "") return
  const problem = cronProblem(pattern)
  if (problem !== undefined)
    out.push({ path: [unit.kind, unit.id, "cron_restart"], message: problem, found: JSON.stringify(pattern) })
}

const checkWatch = (unit: Unit, out: Array<IssueDraft>, warnings: Array<string>) => {
  if (unit.kind === "agents") {
    if (watchesFiles(unit.value.watch) && unit.value.runtime === "inline")
      warnings.push(
        `${formatPath([unit.kind, unit.id, "watch"])}: an inline agent runs in SAM's own process, where Node cannot unload modules: a change imports its entry file afresh, but the modules it imports stay as first loaded; use runtime "worker" to reload all of its code`,
      )
    return
  }
  const d = unit.value.deployment
  if (!watchesFiles(unit.value.watch) || !isRecord(d) || d.mode === "process") return
  if (d.mode !== "container" && d.mode !== "external") return
  out.push({
    path: [unit.kind, unit.id, "watch"],
    message: `watch restarts a process SAM runs when its files change; a "${d.mode}" service has none (watch is for process services and agents)`,
  })
}

/** `${sam.port}`, `${sam.url.<dep>}`, ... in a process's command, args and env: known names, real dependencies. */
const checkPlaceholders = (unit: Unit, out: Array<IssueDraft>) => {
  const deployment = unit.value.deployment
  if (!isRecord(deployment)) return
  const dependsOn = dependencyIds(unit.value.depends_on)
  const places: Array<[Array<string | number>, unknown]> = [
    [["command"], deployment.command],
    ...strings(deployment.args).map((a, i): [Array<string | number>, unknown] => [["args", i], a]),
    ...Object.entries(isRecord(deployment.env) ? deployment.env : {}).map(
      ([k, v]): [Array<string | number>, unknown] => [["env", k], v],
    ),
  ]
  for (const [where, text] of places) {
    if (typeof text !== "string") continue
    for (const match of text.matchAll(/\$\{sam\.([^}]*)\}/g)) {
      const problem = placeholderProblem(match[1] ?? "", dependsOn)
      if (problem) out.push({ path: [unit.kind, unit.id, "deployment", ...where], message: problem })
    }
  }
}

/** The schema's defaults, for a value the config leaves out. */
const DEFAULT_GRACE_SECONDS = 10
const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30

/**
 * A stop grace longer than SAM's whole shutdown: at shutdown what is still stopping when
 * runtime.shutdown_timeout_seconds runs out is SIGKILLed, so the grace is cut short (only sam.log
 * said so). Said when either value is the config's own, not of defaults alone.
 */
const checkShutdownBound = (
  raw: Record<string, unknown>,
  units: ReadonlyArray<Unit>,
  warnings: Array<string>,
) => {
  const set = isRecord(raw.runtime) ? raw.runtime.shutdown_timeout_seconds : undefined
  const timeout = typeof set === "number" ? set : DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
  const bound = `runtime.shutdown_timeout_seconds (${timeout}${set === undefined ? ", the default" : ""})`
  const cut = "at SAM's shutdown what is still stopping then is SIGKILLed"
  const defaulted: Array<string> = []
  for (const unit of units) {
    if (unit.value.enabled === false) continue
    const stop = unit.value.stop
    const grace = isRecord(stop) && typeof stop.grace_seconds === "number" ? stop.grace_seconds : undefined
    if (grace === undefined) {
      if (DEFAULT_GRACE_SECONDS > timeout) defaulted.push(`${unit.kind}.${unit.id}`)
    } else if (grace > timeout)
      warnings.push(
        `${formatPath([unit.kind, unit.id, "stop", "grace_seconds"])}: ${grace} is longer than ${bound}: ${cut}, so its grace is cut short; raise runtime.shutdown_timeout_seconds or lower the grace`,
      )
  }
  if (set !== undefined && defaulted.length > 0)
    warnings.push(
      `runtime.shutdown_timeout_seconds: ${timeout} is shorter than the default stop.grace_seconds (${DEFAULT_GRACE_SECONDS}) of ${defaulted.join(", ")}: ${cut}, so their grace is cut short; raise it or set their stop.grace_seconds`,
    )
}

export const crossChecks = (
  raw: Record<string, unknown>,
): { issues: Array<IssueDraft>; warnings: Array<string> } => {
  const issues: Array<IssueDraft> = []
  const warnings: Array<string> = []
  const units = [...unitsOf(raw, "agents"), ...unitsOf(raw, "services")]
  checkIds(units, issues)
  checkDependsOn(units, issues, warnings)
  checkPorts(raw, units, issues)
  for (const unit of units) {
    if (unit.kind === "services") {
      checkDeployment(unit, issues)
      checkScaling(unit, issues, warnings)
      checkPlaceholders(unit, issues)
      checkGateway(unit, warnings)
      checkConfiguration(unit, issues, warnings)
    }
    checkWatch(unit, issues, warnings)
    checkCronRestart(unit, issues)
    checkAgentLimits(raw, unit, warnings)
    checkGroup(raw, unit, issues)
    checkHealthCheck(unit, issues, warnings)
    checkProbeKind(unit, warnings)
    checkRestartPolicy(unit, issues, warnings)
  }
  checkShutdownBound(raw, units, warnings)
  checkPlugins(raw, issues)
  checkApiTokens(raw, issues)
  checkTokenHandouts(raw, issues)
  issues.push(
    ...alertChecks(
      raw,
      units.map((u) => u.id),
    ),
  )
  warnings.push(...alertWarnings(raw))
  return { issues, warnings }
}
