// What the API shows of SAM's units: supervisor statuses, health records and capability routes
// turned into the response shapes of schemas.ts. Reads only; no lifecycle side effects.

import type { LifecycleState } from "../actors/lifecycleTypes.ts"
import type { Sam, UnitStatus } from "../runtime/sam.ts"
import type { GatewayBackend } from "./apiContext.ts"
import { degradedOf } from "./degraded.ts"
import type { ProcessUsage, Usage } from "./resources.ts"
import type { Agent, Health, HealthCheck, InstanceView, Service, SystemCounts } from "./schemas.ts"

type HealthView = typeof Health.Type
type Counts = typeof SystemCounts.Type
type Check = typeof HealthCheck.Type

const seconds = (ms: number) => Math.round(ms) / 1000

/**
 * One instance's tree as SAM samples it (a worker agent, which has no pid of its own: its thread's
 * heap and CPU), or its pid read now where SAM does not sample.
 */
const instanceUsage = (i: UnitStatus["instances"][number], usage: ProcessUsage): Usage => {
  const live = i.state === "running" || i.state === "suspended"
  if (i.pid === undefined && (i.lastUsage === undefined || !live))
    return { cpu_percent: null, memory_bytes: null }
  if (i.lastUsage === undefined) return usage.of([i.pid as number], i.uptimeMs)
  return { cpu_percent: Math.round(i.lastUsage.cpuPercent * 10) / 10, memory_bytes: i.lastUsage.rssBytes }
}

/** The sum over instances (null when none has a figure). Each pid is read once per view. */
const summed = (usages: ReadonlyArray<Usage>): Usage => {
  const sum = (pick: (u: Usage) => number | null) =>
    usages.reduce<number | null>((n, u) => (pick(u) === null ? n : (n ?? 0) + (pick(u) as number)), null)
  const cpu = sum((u) => u.cpu_percent)
  return {
    cpu_percent: cpu === null ? null : Math.round(cpu * 10) / 10,
    memory_bytes: sum((u) => u.memory_bytes),
  }
}

const usageOf = (status: UnitStatus, usage: ProcessUsage): Usage =>
  summed(status.instances.map((i) => instanceUsage(i, usage)))

/** A unit's CPU and memory now (the `usage` frames of GET /api/events?usage=true). */
export const usageView = (status: UnitStatus, usage: ProcessUsage) => ({
  id: status.id,
  ...usageOf(status, usage),
})

const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

/** Each instance as `sam ps` lists it under its unit, with the usages already read. */
const instanceViews = (status: UnitStatus, usages: ReadonlyArray<Usage>): InstanceView[] =>
  status.instances.map((i, n) => ({
    instance: i.instance,
    status: i.state,
    ready: i.ready,
    pid: i.pid ?? null,
    port: i.port ?? null,
    restarts: i.restarts,
    uptime: seconds(i.uptimeMs),
    ...(usages[n] as Usage),
    reason: i.reason,
    next_attempt_at: isoOrNull(i.nextAttemptAt),
  }))

const unitFields = (status: UnitStatus, usage: ProcessUsage) => {
  const usages = status.instances.map((i) => instanceUsage(i, usage))
  const perInstance = instanceViews(status, usages)
  return {
    id: status.id,
    status: status.state,
    ready: status.ready,
    runtime: status.runtime,
    group: status.group,
    instances: status.instances.length,
    restarts: status.restarts,
    pid: status.pid ?? null,
    uptime: seconds(status.uptimeMs),
    ...summed(usages),
    reason:
      status.instances.find((i) => !(i.state === "running" && i.ready))?.reason ??
      status.instances[0]?.reason ??
      "",
    completed: status.completed,
    rollout_halted: status.rolloutHalted ?? null,
    watch_paused: status.watchPaused ?? null,
    readiness_checked: status.readinessChecked,
    scaled: status.scaled ?? null,
    next_attempt_at: isoOrNull(status.nextAttemptAt),
    depends_on: [...status.dependsOn],
    per_instance: perInstance,
    degraded: degradedOf({ status: status.state, per_instance: perInstance }) ?? null,
    labels: {
      type: status.labels.type ?? null,
      version: status.labels.version ?? null,
      dependencies: [...status.labels.dependencies],
    },
  }
}

/** Whether a capability provider id (`summarizer`, `summarizer#1`) is an instance of `unit`. */
const servesFor = (providerId: string, unit: string) =>
  providerId === unit || providerId.startsWith(`${unit}#`)

/** Capabilities an agent declares in its config or offers right now. */
export const agentCapabilities = (sam: Sam, id: string): string[] => {
  const declared = sam.unitSpecs().find((s) => s.id === id)?.agent?.capabilities ?? []
  const offered = sam.capabilities
    .list()
    .filter((c) => c.providers.some((p) => servesFor(p.id, id)))
    .map((c) => c.capability)
  return [...new Set([...declared, ...offered])].sort()
}

export const inFlightOf = (sam: Sam, id: string): number =>
  sam.capabilities
    .list()
    .flatMap((c) => c.providers)
    .filter((p) => servesFor(p.id, id))
    .reduce((n, p) => n + p.inFlight, 0)

export const agentView = (sam: Sam, status: UnitStatus, usage: ProcessUsage): Agent => ({
  ...unitFields(status, usage),
  capabilities: agentCapabilities(sam, status.id),
})

/** The service's gateway fields: null when the gateway does not route it; its breaker, null when disabled. */
const gatewayView = (id: string, gateway: GatewayBackend | undefined): Service["gateway"] => {
  const seen = gateway?.serviceGateway(id)
  if (seen === undefined) return null
  const b = seen.breaker
  return {
    breaker:
      b === undefined
        ? null
        : {
            state: b.state,
            since: new Date(b.since).toISOString(),
            reason: b.reason ?? null,
            until: isoOrNull(b.until),
          },
  }
}

export const serviceView = (
  status: UnitStatus,
  usage: ProcessUsage,
  gateway: GatewayBackend | undefined,
): Service => ({
  ...unitFields(status, usage),
  url: status.instances.find((i) => i.url !== undefined)?.url ?? null,
  max_instances: status.maxInstances,
  gateway: gatewayView(status.id, gateway),
})

const live = (state: LifecycleState) => state === "running" || state === "suspended"

/** Health of a unit from the check history of its instances (oldest first). */
export const healthView = (sam: Sam, status: UnitStatus): HealthView => {
  const records = sam.records(status.id)
  const history: Check[] = records
    .flatMap((r) =>
      r.health.map((h) => ({
        at: h.at,
        instance: r.instance,
        probe: h.probe,
        ok: h.ok,
        detail: h.detail,
        duration_ms: h.durationMs,
      })),
    )
    .sort((a, b) => a.at.localeCompare(b.at))
  const lasts = records.map((r) => r.health.at(-1))
  const health =
    !live(status.state) || lasts.every((h) => h === undefined)
      ? "unknown"
      : lasts.every((h) => h?.ok !== false)
        ? "healthy"
        : "unhealthy"
  return { ready: status.ready, status: health, last: history.at(-1) ?? null, history }
}

export const countStates = (statuses: ReadonlyArray<UnitStatus>): Counts => {
  const counts = { total: statuses.length, running: 0, stopped: 0, error: 0, other: 0 }
  for (const s of statuses) {
    if (s.state === "running") counts.running++
    else if (s.state === "stopped") counts.stopped++
    else if (s.state === "error" || s.state === "backoff" || s.state === "crashed") counts.error++
    else counts.other++
  }
  return counts
}

/**
 * healthy: every unit that is not stopped is running and ready; unhealthy: something crashed; made
 * worse by the watchdog's worst finding (critical: unhealthy, warning: degraded).
 */
export const overallHealth = (
  statuses: ReadonlyArray<UnitStatus>,
  watchdog: "ok" | "warning" | "critical" = "ok",
): "healthy" | "degraded" | "unhealthy" => {
  if (statuses.some((s) => s.state === "crashed") || watchdog === "critical") return "unhealthy"
  const started = statuses.filter((s) => s.state !== "stopped")
  return started.every((s) => s.state === "running" && s.ready) && watchdog === "ok" ? "healthy" : "degraded"
}

/** Each unit id and the ids it depends on. */
export const dependencyGraph = (sam: Sam): Record<string, string[]> =>
  Object.fromEntries(sam.unitSpecs().map((s) => [s.id, [...s.dependsOn]]))
