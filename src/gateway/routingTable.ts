// The gateway's routing snapshot: for each service, the instances that may get traffic now
// (ready, not draining, with a URL) and its gateway settings. Built whole from Sam's status on
// every registry change and swapped in one assignment (gateway.ts): the hot path never locks.

import { defaultGatewaySpec, type GatewaySpec } from "../runtime/gatewaySpec.ts"
import type { UnitStatus } from "../runtime/sam.ts"
import type { UnitSpec } from "../runtime/unitSpec.ts"

/** One instance that may get traffic. */
export interface Endpoint {
  readonly unit: string
  readonly instance: number
  /** Base URL ("http://127.0.0.1:41234"), the key of its connection pool. */
  readonly url: string
  /** When the running incarnation started (epoch ms), for slow start. */
  readonly startedAt: number | undefined
}

export interface ServiceRoute {
  readonly id: string
  readonly spec: GatewaySpec
  readonly endpoints: ReadonlyArray<Endpoint>
  /** scaling.min_instances 0: a request may start it (start-on-demand). */
  readonly onDemand: boolean
  /** Instances the unit runs now (ready or not). */
  readonly instances: number
  /** The unit's state, to say why there is no endpoint. */
  readonly state: string
  /** When SAM starts an instance in backoff (or crashed, retrying) again (epoch ms). */
  readonly nextAttemptAt: number | undefined
}

export interface RoutingTable {
  /** Increases with every rebuild. */
  readonly version: number
  readonly services: ReadonlyMap<string, ServiceRoute>
  readonly agents: ReadonlySet<string>
  /** Every unit's depends_on (who may call whom with SAM_GATEWAY_TOKEN). */
  readonly dependsOn: ReadonlyMap<string, ReadonlySet<string>>
}

export const emptyTable: RoutingTable = {
  version: 0,
  services: new Map(),
  agents: new Set(),
  dependsOn: new Map(),
}

/** The instances of `status` that may get traffic. */
const endpointsOf = (status: UnitStatus): ReadonlyArray<Endpoint> =>
  status.instances.flatMap((i) =>
    i.state === "running" && i.ready && !i.draining && i.url !== undefined
      ? [{ unit: status.id, instance: i.instance, url: i.url.replace(/\/+$/, ""), startedAt: i.startedAt }]
      : [],
  )

/** `route` with the instances of its unit's new `status` (one unit's transition). Pure. */
export const withStatus = (route: ServiceRoute, status: UnitStatus): ServiceRoute => ({
  ...route,
  endpoints: endpointsOf(status),
  instances: status.instances.length,
  state: status.state,
  nextAttemptAt: status.nextAttemptAt,
})

/** `table` with one service's route replaced. Pure. */
export const withRoute = (table: RoutingTable, route: ServiceRoute): RoutingTable => {
  const services = new Map(table.services)
  services.set(route.id, route)
  return { ...table, version: table.version + 1, services }
}

/** The routing table of `specs` in their current `statuses`. Pure. */
export const buildRoutingTable = (
  specs: ReadonlyArray<UnitSpec>,
  statuses: ReadonlyArray<UnitStatus>,
  version: number,
): RoutingTable => {
  const byId = new Map(statuses.map((s) => [s.id, s]))
  const services = new Map<string, ServiceRoute>()
  const agents = new Set<string>()
  const dependsOn = new Map<string, ReadonlySet<string>>()
  for (const spec of specs) {
    dependsOn.set(spec.id, new Set(spec.dependsOn))
    if (spec.kind === "agent") {
      agents.add(spec.id)
      continue
    }
    const status = byId.get(spec.id)
    services.set(spec.id, {
      id: spec.id,
      spec: spec.gateway ?? defaultGatewaySpec,
      endpoints: status ? endpointsOf(status) : [],
      onDemand: spec.instances === 0,
      instances: status?.instances.length ?? 0,
      state: status?.state ?? "stopped",
      nextAttemptAt: status?.nextAttemptAt,
    })
  }
  return { version, services, agents, dependsOn }
}

/** `/api/<id>/<rest>?q` → id and `/<rest>?q`; undefined when the URL is not of that shape. */
export const gatewayTarget = (url: string): { readonly id: string; readonly rest: string } | undefined => {
  if (!url.startsWith("/api/")) return undefined
  let end = 5
  while (end < url.length) {
    const c = url.charCodeAt(end)
    if (c === 47 /* / */ || c === 63 /* ? */) break
    end++
  }
  if (end === 5) return undefined
  const id = url.slice(5, end)
  const tail = url.slice(end)
  return { id, rest: tail.length === 0 || tail.charCodeAt(0) === 63 ? `/${tail}` : tail }
}

/** A segment that is `.` or `..`, its dots written or percent-encoded (`%2e`, `%2E`). */
const dotSegment = (segment: string): 0 | 1 | 2 => {
  if (segment.length > 6 || segment.length === 0) return 0
  const plain = segment.replace(/%2e/gi, ".")
  return plain === "." ? 1 : plain === ".." ? 2 : 0
}

/**
 * `/<rest>?q` with its path's dot segments removed (RFC 3986 5.2.4), never above its root, as nginx
 * does: `/../status` → `/status`, `/a/../../x` → `/x`, `/a/./b/.` → `/a/b/`; `%2e` counts as a dot,
 * `%2F` stays encoded (it is no separator). The query is left as it is. Pure.
 */
export const withoutDotSegments = (rest: string): string => {
  const q = rest.indexOf("?")
  const path = q === -1 ? rest : rest.slice(0, q)
  if (!path.includes(".") && !/%2e/i.test(path)) return rest
  const segments = path.split("/").slice(1)
  const out: string[] = []
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1
    const dots = dotSegment(segment)
    if (dots === 2) out.pop()
    if (dots === 0) out.push(segment)
    // A path ending in a dot segment names a directory: it keeps its trailing slash.
    else if (last) out.push("")
  }
  return `/${out.join("/")}${q === -1 ? "" : rest.slice(q)}`
}
