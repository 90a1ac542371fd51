// The gateway: `/api/<service>/<rest>` on the control API's port, proxied to the service's ready
// instances (and plugins' gateway.route registrations). The routing snapshot is rebuilt from Sam on
// every registry event and swapped in one assignment; a request is admitted here (route, auth,
// rate limit, load shedding, breaker, cache, start-on-demand) and forwarded by forward.ts.
// Lifecycle through Effect (makeGateway); the hot path is plain node:http + undici.
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { Effect, type Scope } from "effect"
import type { Dispatcher } from "undici"
import { RESERVED_IDS } from "../config/crossChecks.ts"
import { didYouMean } from "../config/suggest.ts"
import { GatewayMetricsHub } from "../metrics/gatewaySource.ts"
import type { GatewayRegistry, GatewayRoute } from "../plugins/gatewayRegistry.ts"
import type { SamEvent } from "../runtime/eventBus.ts"
import { defaultGatewaySpec, type GatewaySpec } from "../runtime/gatewaySpec.ts"
import type { Sam, UnitStatus } from "../runtime/sam.ts"
import type { BreakerView } from "./circuitBreaker.ts"
import { Exchange, type ForwardEnv, forward } from "./forward.ts"
import { type ApiAuthenticate, authorize, type GatewayAuthOptions } from "./gatewayAuth.ts"
import { GatewayStats, type GatewayStatsSnapshot } from "./gatewayStats.ts"
import { clientAddressOf, cookieValue, type Mount, requestIdOf, upstreamRequestHeaders } from "./headers.ts"
import { answerInProcess } from "./inProcessRoute.ts"
import { bodyTooLarge, sendProblem } from "./problems.ts"
import { notModified, notModifiedHeadersOf, ResponseCache, requestMayUseCache } from "./responseCache.ts"
import { answerThroughHooks, hookHeaders, sendGatewayResponse } from "./responseHooks.ts"
import {
  buildRoutingTable,
  type Endpoint,
  emptyTable,
  gatewayTarget,
  type RoutingTable,
  type ServiceRoute,
  withoutDotSegments,
  withRoute,
  withStatus,
} from "./routingTable.ts"
import { makeServiceState, type ServiceState } from "./serviceState.ts"
import { type Routable, StartOnDemand } from "./startOnDemand.ts"
import { rateLimitHeader } from "./tokenBucket.ts"
import { type Unavailable, unavailable, unavailableHeaders } from "./unavailable.ts"
import { Upstreams } from "./upstreams.ts"
import { proxyUpgrade, refuseUpgrade } from "./websocketProxy.ts"

export interface GatewayOptions {
  readonly sam: Sam
  /** Plugins' gateway.route and gateway.middleware registrations. */
  readonly routes?: GatewayRegistry
  /** The control API's token check, for `auth: token`. */
  readonly authenticate: ApiAuthenticate
  /** The API binds loopback: services default to `auth: none`. */
  readonly loopback: boolean
  /** Told what went wrong outside any request (a failed scale, a plugin handler that threw). */
  readonly report?: (message: string) => void
  /** Told of each request its auth refused (401, 403), for the audit log's tally. */
  readonly refused?: (source: string, service: string, status: 401 | 403) => void
}

/** How long a cache miss waits for the same URL's fetch already in flight (nginx's default). */
const cacheLockTimeoutMs = 5_000

/** Ids under /api/ that stay the control API's. */
const RESERVED: ReadonlySet<string> = new Set([...RESERVED_IDS, "openapi.json"])

/** A request held for a ready instance (start-on-demand), until one is routable or the start fails. */
interface Waiter {
  /** The service was seen starting or running: a failure state from here on is this start's. */
  sawStart: boolean
  readonly settle: (outcome: Routable) => void
}

/** States a start that failed ends in (the service is down, retried later or not at all). */
const failedStates: ReadonlySet<string> = new Set(["backoff", "crashed", "error"])

type PluginMatch = GatewayRoute & { readonly owner: string }

export class Gateway {
  /** The routing snapshot: replaced whole, never mutated. */
  private table: RoutingTable = emptyTable
  private readonly states = new Map<string, ServiceState>()
  readonly statsRegistry: GatewayStats
  /** Every answered request and breaker change, for the metrics (Monitoring.attachGateway). */
  readonly metrics = new GatewayMetricsHub()
  private readonly upstreams: Upstreams
  /** Pools of plugin routes with a fixed target URL. */
  private readonly fixed: Upstreams
  private readonly onDemand: StartOnDemand
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly options: GatewayOptions
  private readonly report: (message: string) => void
  private readonly off: () => void
  private readonly env: ForwardEnv
  private readonly authOptions: GatewayAuthOptions
  /** The same for plugin routes with a fixed target URL (their own pools). */
  private readonly fixedEnv: ForwardEnv
  private closing: Promise<void> | undefined
  /** Client sockets of upgraded (WebSocket) connections: the HTTP server no longer tracks them. */
  private readonly tunnels = new Set<Duplex>()

  constructor(options: GatewayOptions) {
    this.options = options
    this.report = options.report ?? (() => {})
    this.statsRegistry = new GatewayStats(
      (id) => this.states.get(id)?.breaker.state ?? "closed",
      this.metrics,
    )
    this.upstreams = new Upstreams(this.report)
    this.fixed = new Upstreams(this.report)
    this.env = {
      upstreams: this.upstreams,
      route: (id) => this.table.services.get(id),
      done: (x) => this.done(x),
    }
    this.fixedEnv = { ...this.env, upstreams: this.fixed }
    this.authOptions = {
      unitTokens: options.sam.unitTokens,
      authenticate: options.authenticate,
      loopback: options.loopback,
    }
    this.onDemand = new StartOnDemand({
      sam: options.sam,
      whenRoutable: (id, ms) => this.whenRoutable(id, ms),
      inFlight: (id) => this.states.get(id)?.counters.inFlight ?? 0,
      lastActivity: (id) => this.states.get(id)?.lastActivity ?? 0,
      drain: this.drain,
      report: this.report,
    })
    this.rebuild()
    this.off = options.sam.events.subscribe((event) => this.onEvent(event))
  }

  // ── what the rest of SAM calls ─────────────────────────────────────────────────────────────

  /** Whether `url` is the gateway's: /api/<id>... where <id> is no path of the control API. */
  claims(url: string | undefined): boolean {
    if (url === undefined) return false
    const target = gatewayTarget(url)
    return target !== undefined && !RESERVED.has(target.id)
  }

  /** Requests in flight to instance `instance` of `unit` through the gateway (the autoscaler's metric). */
  inFlight(unit: string, instance: number): number {
    return this.upstreams.inFlight(unit, instance)
  }

  /**
   * Resolves once instance `instance` of `unit` has no request in flight through the gateway: the
   * `drain` to pass to `sam.scale(id, n, { drain })`. The instance must already be out of the
   * routing table (Sam marks it draining before it calls this), so no new request reaches it.
   */
  readonly drain = (unit: string, instance: number): Promise<void> => this.upstreams.drain(unit, instance)

  /**
   * What the gateway holds of service `id` for its status (the API's `gateway` field): its
   * breaker (undefined: breaker.enabled false); undefined when the gateway does not route it
   * (no such service, or gateway.enabled false). The breaker is the service's, not an instance's.
   */
  serviceGateway(id: string): { readonly breaker: BreakerView | undefined } | undefined {
    const route = this.table.services.get(id)
    if (route === undefined || !route.spec.enabled) return undefined
    return { breaker: this.states.get(id)?.breaker.view() }
  }

  /** Its own counters (shedding, retries, errors, breakers, cache): tests and diagnostics. */
  stats(): GatewayStatsSnapshot {
    return this.statsRegistry.snapshot()
  }

  /** The current routing snapshot (read-only; tests and diagnostics). */
  routing(): RoutingTable {
    return this.table
  }

  // ── the routing snapshot ───────────────────────────────────────────────────────────────────

  /**
   * A transition of a service changes its route only (agents have none); scaling, supervisor
   * decisions and config reloads may change anything: the whole table is built again. Either way
   * the new table is in place before the publisher goes on (a draining instance is out before
   * its drain is awaited).
   */
  private onEvent(event: SamEvent): void {
    if (event.type === "transition") {
      if (this.table.agents.has(event.unit)) return
      const route = this.table.services.get(event.unit)
      if (route !== undefined) this.refresh(route)
      else this.rebuild()
      return
    }
    if (event.type === "supervisor" || event.type.startsWith("config.")) this.rebuild()
  }

  private refresh(route: ServiceRoute): void {
    let status: UnitStatus
    try {
      status = this.options.sam.unitStatus(route.id)
    } catch {
      // Removed meanwhile (a reload): the whole table says so.
      this.rebuild()
      return
    }
    this.install(withRoute(this.table, withStatus(route, status)))
  }

  private rebuild(): void {
    const { sam } = this.options
    const table = buildRoutingTable(sam.unitSpecs(), sam.status().units, this.table.version + 1)
    for (const [id, route] of table.services) {
      const current = this.states.get(id)
      if (current === undefined || current.specText !== JSON.stringify(route.spec)) {
        current?.breaker.stop()
        this.states.set(id, this.stateFor(id, route.spec))
        // Its series exist from the route's first moment (closed), not from a first change; a
        // breaker made fresh by a reload is closed again.
        if (route.spec.enabled && route.spec.breaker.enabled) this.metrics.breakerChanged(id, "closed")
        else this.metrics.forget(id)
      }
    }
    for (const [id, state] of this.states)
      if (!table.services.has(id) && !id.startsWith("plugin:")) {
        state.breaker.stop()
        this.states.delete(id)
        this.metrics.forget(id)
      }
    this.install(table)
  }

  /** Swap `table` in, retire what left it and release requests waiting for an instance. */
  private install(table: RoutingTable): void {
    const urls = new Set<string>()
    for (const route of table.services.values()) for (const e of route.endpoints) urls.add(e.url)
    this.table = table
    this.upstreams.retain(urls)
    for (const state of this.states.values()) state.outlier.retain(urls)
    for (const [id, waiting] of this.waiters) {
      const route = table.services.get(id)
      if ((route?.endpoints.length ?? 0) > 0) {
        this.waiters.delete(id)
        for (const waiter of waiting) waiter.settle("ready")
        continue
      }
      // Released as soon as a start it saw begin has failed: the answer says why at once.
      const state = route?.state ?? "stopped"
      for (const waiter of waiting) {
        if (state === "starting" || state === "running") waiter.sawStart = true
        else if (waiter.sawStart && failedStates.has(state)) waiter.settle("failed")
      }
    }
  }

  private stateFor(id: string, spec: GatewaySpec): ServiceState {
    const counters = this.states.get(id)?.counters ?? this.statsRegistry.of(id)
    return makeServiceState(id, spec, counters, (state, reason) => {
      this.metrics.breakerChanged(id, state === "halfOpen" ? "half_open" : state)
      this.options.sam.bus.publish({
        type: "gateway.breaker",
        unit: id,
        state,
        detail:
          state === "open"
            ? `the breaker of "${id}" opened: ${reason}`
            : `the breaker of "${id}" is ${state}`,
      })
    })
  }

  /** How waiting up to `ms` for a ready instance of `id` in the table ends (startOnDemand.ts). */
  private whenRoutable(id: string, ms: number): Promise<Routable> {
    const route = this.table.services.get(id)
    if ((route?.endpoints.length ?? 0) > 0) return Promise.resolve("ready")
    return new Promise((resolve) => {
      const waiting = this.waiters.get(id) ?? new Set()
      const waiter: Waiter = {
        sawStart: route?.state === "starting" || route?.state === "running",
        settle: (outcome) => {
          clearTimeout(timer)
          waiting.delete(waiter)
          resolve(outcome)
        },
      }
      const timer = setTimeout(() => waiter.settle("timeout"), ms)
      waiting.add(waiter)
      this.waiters.set(id, waiting)
    })
  }

  // ── admission ──────────────────────────────────────────────────────────────────────────────

  /** What `/api/<id><rest>` names: a service, or a plugin route (the longer prefix wins, services on ties). */
  private resolve(id: string, rest: string): { route?: ServiceRoute; plugin?: PluginMatch } {
    const route = this.table.services.get(id)
    const registry = this.options.routes
    if (registry === undefined || registry.size === 0) return route === undefined ? {} : { route }
    const plugin = registry.match(`/${id}${rest === "/" ? "" : rest}`)
    if (plugin === undefined || (route !== undefined && plugin.prefix.length <= id.length + 1))
      return route === undefined ? {} : { route }
    return { plugin }
  }

  /** Why `/api/<id>` names nothing, with a did-you-mean among services, plugin routes and API paths. */
  private unknown(method: string, id: string): string {
    if (this.table.agents.has(id))
      return `"${id}" is an agent: agents are not proxied; invoke their capabilities with POST /api/capabilities/:name/invoke`
    const candidates = [
      ...this.table.services.keys(),
      ...(this.options.routes?.list().map((r) => r.prefix.slice(1).split("/")[0] ?? "") ?? []),
      ...RESERVED,
    ]
    const hint = didYouMean(id, candidates)
    return (
      `no route ${method} /api/${id}${hint ? ` (did you mean /api/${hint}?)` : ""}: no service "${id}"; ` +
      "GET /api/openapi.json lists every endpoint"
    )
  }

  /**
   * Whether the gateway refuses `req` before reading any of its body: a Content-Length past the
   * service's max_body_bytes (413), or a credential its auth does not accept (401, 403). Then a
   * client's `Expect: 100-continue` gets the refusal without a 100 Continue (apiServer.ts,
   * continueGate.ts), and sends no body. A plugin's own routes decide for themselves.
   */
  refusesBody(req: IncomingMessage): boolean {
    const target = gatewayTarget(req.url ?? "/")
    if (target === undefined) return false
    const { route, plugin } = this.resolve(target.id, target.rest)
    if (plugin !== undefined || route === undefined || !route.spec.enabled) return false
    const length = req.headers["content-length"]
    if (length !== undefined && route.spec.maxBodyBytes > 0 && Number(length) > route.spec.maxBodyBytes)
      return true
    return !authorize(route, req.headers, this.table, this.authOptions).ok
  }

  /** Answer one request the gateway claims (see `claims`). Never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.admit(req, res)
    } catch (error) {
      this.report(
        `the gateway failed on ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      sendProblem(res, 500, "SAM's gateway failed to answer this request; see SAM's log")
    }
  }

  private admit(req: IncomingMessage, res: ServerResponse): undefined {
    const url = req.url ?? "/"
    const target = gatewayTarget(url)
    if (target === undefined) return sendProblem(res, 404, `no route ${req.method} ${url}`)
    try {
      if (url.includes("%")) decodeURI(url.split("?")[0] ?? url)
    } catch {
      return sendProblem(res, 400, `the request path is not valid percent-encoding; escape "%" as %25`)
    }
    const { route, plugin } = this.resolve(target.id, target.rest)
    if (plugin !== undefined) return this.servePlugin(req, res, target.id, target.rest, plugin)
    if (route === undefined || !route.spec.enabled)
      return sendProblem(
        res,
        404,
        route === undefined
          ? this.unknown(req.method ?? "GET", target.id)
          : `"${target.id}" is not exposed through the gateway (gateway.enabled: false)`,
      )
    // Dot segments never climb out of the service's path (nginx's rule): /api/web/../x is web's /x.
    const rest = withoutDotSegments(target.rest)
    const upstreamPath = route.spec.stripPrefix
      ? rest
      : rest === target.rest
        ? url
        : `/api/${target.id}${rest}`
    const mount = { client: route.spec.stripPrefix ? `/api/${target.id}` : "", upstream: "" }
    this.admitService(req, res, route, upstreamPath, undefined, mount)
  }

  /** The checks every service request passes, then the cache, start-on-demand and forward. */
  private admitService(
    req: IncomingMessage,
    res: ServerResponse,
    route: ServiceRoute,
    upstreamPath: string,
    fixedEndpoint: Endpoint | undefined,
    mount: Mount,
  ): undefined {
    const state = this.states.get(route.id) ?? this.pluginState(route.id, route.spec)
    const { spec } = state
    const length = req.headers["content-length"]
    // The gateway's own refusals are requests of the service in the metrics too (4xx), as its 429s.
    if (length !== undefined && spec.maxBodyBytes > 0 && Number(length) > spec.maxBodyBytes) {
      state.counters.answered(req.method ?? "GET", 413, 0)
      return sendProblem(res, 413, bodyTooLarge(route.id, spec.maxBodyBytes), { connection: "close" })
    }
    const auth = authorize(route, req.headers, this.table, this.authOptions)
    if (!auth.ok) {
      state.counters.answered(req.method ?? "GET", auth.status, 0)
      this.options.refused?.(clientAddressOf(req.socket.remoteAddress), route.id, auth.status)
      return sendProblem(
        res,
        auth.status,
        auth.detail,
        auth.status === 401 ? { "www-authenticate": 'Bearer realm="sam"' } : {},
      )
    }
    const registry = this.options.routes
    if (registry?.hasHooks("onRequest")) {
      const request = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers }
      registry.runOnRequest(request).then(
        (answer) => {
          if (answer === undefined)
            this.admitted(req, res, state, route, upstreamPath, fixedEndpoint, mount, auth.credential)
          else sendGatewayResponse(res, answer, req.method === "HEAD")
        },
        (error: unknown) => {
          this.report(`gateway middleware failed: ${String(error)}`)
          sendProblem(res, 502, "gateway middleware failed")
        },
      )
      return
    }
    this.admitted(req, res, state, route, upstreamPath, fixedEndpoint, mount, auth.credential)
  }

  private admitted(
    req: IncomingMessage,
    res: ServerResponse,
    state: ServiceState,
    route: ServiceRoute,
    upstreamPath: string,
    fixedEndpoint: Endpoint | undefined,
    mount: Mount,
    credential: string | undefined,
  ): undefined {
    const { spec, counters } = state
    const now = Date.now()
    const client = clientAddressOf(req.socket.remoteAddress)
    if (state.buckets !== undefined) {
      const key = spec.rateLimit?.key === "token" && credential !== undefined ? credential : client
      const answer = state.buckets.take(key, now)
      const policy = state.buckets.policyHeader(route.id)
      const limit = rateLimitHeader(route.id, answer)
      if (!answer.allowed) {
        counters.rateLimited++
        counters.answered(req.method ?? "GET", 429, 0, { rateLimited: true })
        return sendProblem(
          res,
          429,
          `too many requests to "${route.id}" (gateway.rate_limit); retry after ${answer.retryAfterSeconds} s`,
          {
            "retry-after": String(answer.retryAfterSeconds),
            "ratelimit-policy": policy,
            ratelimit: limit,
          },
        )
      }
      res.setHeader("ratelimit-policy", policy)
      res.setHeader("ratelimit", limit)
    }
    if (spec.maxInFlight > 0 && counters.inFlight >= spec.maxInFlight) {
      counters.shed++
      counters.answered(req.method ?? "GET", 503, 0, { refusedBy: "max_in_flight" })
      return sendProblem(
        res,
        503,
        `"${route.id}" has ${counters.inFlight} requests in flight (gateway.max_in_flight); retry shortly`,
        {
          "retry-after": "1",
        },
      )
    }
    const ticket = state.breaker.allow()
    if (ticket === undefined) {
      counters.breakerRejected++
      counters.answered(req.method ?? "GET", 503, 0, { refusedBy: "breaker_open" })
      return sendProblem(
        res,
        503,
        `the breaker of "${route.id}" is open: too many of its calls failed or were slow`,
        {
          "retry-after": String(state.breaker.retryAfterSeconds(now)),
        },
      )
    }
    counters.inFlight++
    if (route.onDemand) this.onDemand.busy(route.id)
    const method = (req.method ?? "GET") as Dispatcher.HttpMethod
    const requestId = requestIdOf(req.headers)
    const x = new Exchange(
      fixedEndpoint === undefined ? this.env : this.fixedEnv,
      req,
      res,
      state,
      method,
      upstreamPath,
      upstreamRequestHeaders(req.headers, {
        clientAddress: client,
        proto: "http",
        requestId,
        forwardAuth: spec.forwardAuth,
        prefix: mount.client,
      }),
      requestId,
      spec.balance === "hash" ? this.hashKey(req, spec, client) : undefined,
      fixedEndpoint,
      ticket,
      now,
    )
    x.mount = mount
    const registry = this.options.routes
    if (registry?.hasHooks("onResponse")) {
      const request = { method, url: req.url ?? "/", headers: req.headers }
      x.hooks = (response) => registry.runOnResponse(request, response)
    }
    const cache = state.cache
    if (cache !== undefined && requestMayUseCache(method, req.headers)) {
      this.throughCache(x, cache, route)
      return
    }
    this.toInstances(x, route)
  }

  private hashKey(req: IncomingMessage, spec: GatewaySpec, client: string): string {
    if (spec.hash.header !== undefined) {
      const value = req.headers[spec.hash.header]
      if (value !== undefined) return Array.isArray(value) ? value.join(",") : value
    }
    if (spec.hash.cookie !== undefined) {
      const value = cookieValue(req.headers.cookie, spec.hash.cookie)
      if (value !== undefined) return value
    }
    return client
  }

  /** A hit answers from the cache; a miss waits for an identical miss in flight, then goes on. */
  private throughCache(x: Exchange, cache: ResponseCache, route: ServiceRoute, waited = false): void {
    const key = x.path
    const hit = cache.lookup(key, x.req.headers, Date.now())
    if (hit !== undefined) {
      x.state.counters.cacheHits++
      x.status = hit.status
      x.state.breaker.release(x.ticket)
      const age = String(ResponseCache.ageSeconds(hit, Date.now()))
      // The client holds this answer already (its validator matches): no body to send. Not with
      // response hooks, which see and may change every answer's body.
      if (x.hooks === undefined && notModified(hit, x.req.headers)) {
        x.status = 304
        x.res.writeHead(304, {
          ...notModifiedHeadersOf(hit),
          age,
          "x-cache": "hit",
          "x-request-id": x.requestId,
        })
        x.res.end()
        this.done(x)
        return
      }
      const headers = { ...hit.headers, age, "x-cache": "hit", "x-request-id": x.requestId }
      if (x.hooks !== undefined) {
        // A hit gets the hooks as the service's answer did.
        const original = { status: hit.status, headers: hookHeaders(headers), body: hit.body }
        answerThroughHooks(x.res, x.hooks, original, x.method === "HEAD").then((status) => {
          x.status = status
          this.done(x)
        })
        return
      }
      x.res.writeHead(hit.status, headers)
      x.res.end(x.method === "HEAD" ? undefined : hit.body)
      this.done(x)
      return
    }
    const pending = cache.inFlight(key)
    if (pending !== undefined && !waited) {
      // As nginx's proxy_cache_lock_timeout (5 s): a first fetch slower than that (an answer that
      // is not cacheable after all) holds the others no longer; they go to the service themselves.
      let timer: NodeJS.Timeout | undefined
      const lockTimeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, cacheLockTimeoutMs)
        timer.unref()
      })
      void Promise.race([pending, lockTimeout]).then(() => {
        clearTimeout(timer)
        this.throughCache(x, cache, route, true)
      })
      return
    }
    x.cacheKey = key
    if (pending === undefined) x.cacheDone = cache.begin(key)
    this.toInstances(x, route)
  }

  /** A 503 saying why the service has no instance to send `x` to, and when to come back. */
  private refuse(x: Exchange, answer: Unavailable): void {
    x.state.breaker.release(x.ticket)
    x.status = x.res.destroyed ? 499 : 503
    x.refused = true
    sendProblem(x.res, 503, answer.detail, { ...unavailableHeaders(answer), "x-request-id": x.requestId })
    this.done(x)
  }

  /** Forward now, or hold the request while an on-demand service starts. */
  private toInstances(x: Exchange, route: ServiceRoute): void {
    if (x.fixedEndpoint !== undefined || route.endpoints.length > 0 || !route.onDemand) {
      if (x.fixedEndpoint === undefined && route.endpoints.length === 0)
        this.refuse(x, unavailable(route, Date.now()))
      else forward(x)
      return
    }
    // Its last start failed and SAM waits to try again: holding the request would only wait out
    // the backoff (or a crashed unit's retry, minutes away). Answered now, as for any service.
    if (route.instances > 0 && failedStates.has(route.state)) {
      this.refuse(x, this.startFailure(route.id, "failed to start"))
      return
    }
    const startMs = route.spec.timeouts.startMs
    // Whose start a failure was: this request's (it ran nothing), or SAM's own retry under way.
    const startedHere = route.instances === 0
    this.onDemand.ensure(route.id, startMs).then((outcome) => {
      if (outcome === "ready" && !x.res.destroyed) {
        forward(x)
        return
      }
      this.refuse(
        x,
        outcome === "failed"
          ? this.startFailure(
              route.id,
              startedHere ? "was started for this request and failed" : "failed to start",
            )
          : {
              detail: `"${route.id}" did not become ready within ${startMs} ms (gateway.timeouts.start_ms)`,
              retryAfterSeconds: 5,
            },
      )
    })
  }

  /** Why an on-demand start failed, and when SAM tries again: the 503 a client gets at once. */
  private startFailure(id: string, what: string): Unavailable {
    let reason: string | undefined
    try {
      reason = this.options.sam.unitStatus(id).instances.find((i) => i.reason !== "")?.reason
    } catch {
      reason = undefined // removed meanwhile (a reload)
    }
    const lead = `"${id}" ${what}${reason ? ` (${reason})` : ""}`
    const route = this.table.services.get(id) ?? { id, state: "stopped", nextAttemptAt: undefined }
    return unavailable(route, Date.now(), lead)
  }

  /** Every admitted request ends here once. */
  private done(x: Exchange): void {
    const { state } = x
    const counters = state.counters
    counters.inFlight--
    counters.answered(x.method, x.clientClosed ? 499 : x.status, (Date.now() - x.startedAt) / 1000, {
      ttfbSeconds: x.sent ? x.ttfbMs / 1000 : undefined,
      retries: Math.max(0, x.attempts - 1),
      refusedBy: x.refused ? "unavailable" : undefined,
    })
    state.lastActivity = Date.now()
    const route = this.table.services.get(state.id)
    if (route?.onDemand && counters.inFlight === 0) this.onDemand.idle(state.id, route.spec.idleMs)
  }

  // ── plugin routes ──────────────────────────────────────────────────────────────────────────

  private pluginState(id: string, spec: GatewaySpec): ServiceState {
    let state = this.states.get(id)
    if (state === undefined) {
      state = this.stateFor(id, spec)
      this.states.set(id, state)
    }
    return state
  }

  private servePlugin(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    rest: string,
    plugin: PluginMatch,
  ): undefined {
    const full = `/${id}${rest === "/" ? "" : rest}`
    // The gateway's path the target's paths sit under: what the route strips, under /api.
    const mounted = plugin.stripPrefix === false ? "/api" : `/api${plugin.prefix}`
    const stripped = plugin.stripPrefix === false ? full : full.slice(plugin.prefix.length) || "/"
    const after = stripped.startsWith("?") ? `/${stripped}` : stripped
    if (plugin.handler !== undefined) {
      answerInProcess(req, res, plugin, (message) => this.report(message))
      return
    }
    const target = plugin.target ?? ""
    if (target.startsWith("unit:")) {
      const unit = target.slice(5)
      const route = this.table.services.get(unit)
      if (route === undefined)
        return sendProblem(
          res,
          502,
          `the gateway route ${plugin.prefix} targets "${unit}", which is no service`,
        )
      return this.admitService(req, res, route, after, undefined, { client: mounted, upstream: "" })
    }
    let base: URL
    try {
      base = new URL(target)
    } catch {
      return sendProblem(
        res,
        502,
        `the gateway route ${plugin.prefix} has an invalid target ${JSON.stringify(target)}`,
      )
    }
    const routeId = `plugin:${plugin.owner}${plugin.prefix}`
    const route: ServiceRoute = {
      id: routeId,
      spec: defaultGatewaySpec,
      endpoints: [],
      onDemand: false,
      instances: 1,
      state: "running",
      nextAttemptAt: undefined,
    }
    const endpoint: Endpoint = { unit: routeId, instance: 0, url: base.origin, startedAt: undefined }
    const prefix = base.pathname.replace(/\/+$/, "")
    this.admitService(req, res, route, `${prefix}${after}`, endpoint, { client: mounted, upstream: prefix })
  }

  // ── upgrades (WebSocket) ───────────────────────────────────────────────────────────────────

  /** Proxy an Upgrade request the gateway claims; refuses on the socket what it cannot serve. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): undefined {
    socket.on("error", () => socket.destroy())
    if (this.closing !== undefined) {
      socket.destroy()
      return undefined
    }
    this.tunnels.add(socket)
    socket.once("close", () => this.tunnels.delete(socket))
    const url = req.url ?? "/"
    const target = gatewayTarget(url)
    const route = target === undefined ? undefined : this.resolve(target.id, target.rest).route
    if (target === undefined || route === undefined || !route.spec.enabled)
      return refuseUpgrade(
        socket,
        404,
        target === undefined ? `no route ${url}` : this.unknown(req.method ?? "GET", target.id),
      )
    const state = this.states.get(route.id)
    if (state === undefined) return refuseUpgrade(socket, 404, this.unknown(req.method ?? "GET", target.id))
    const auth = authorize(route, req.headers, this.table, this.authOptions)
    if (!auth.ok) {
      state.counters.answered(req.method ?? "GET", auth.status, 0)
      this.options.refused?.(clientAddressOf(req.socket.remoteAddress), route.id, auth.status)
      return refuseUpgrade(socket, auth.status, auth.detail)
    }
    const client = clientAddressOf(req.socket.remoteAddress)
    if (state.buckets !== undefined) {
      const key =
        state.spec.rateLimit?.key === "token" && auth.credential !== undefined ? auth.credential : client
      const answer = state.buckets.take(key, Date.now())
      if (!answer.allowed) {
        state.counters.rateLimited++
        state.counters.answered(req.method ?? "GET", 429, 0, { rateLimited: true })
        return refuseUpgrade(socket, 429, `too many requests to "${route.id}" (gateway.rate_limit)`, {
          "retry-after": String(answer.retryAfterSeconds),
        })
      }
    }
    const go = (): undefined => {
      const current = this.table.services.get(route.id)
      const candidates = state.outlier.eligible(current?.endpoints ?? [], Date.now())
      const endpoint = state.balancer.pick(candidates, {
        now: Date.now(),
        inFlight: (e) => this.upstreams.inFlightAt(e.url),
        key: client,
      })
      if (endpoint === undefined) {
        // None routable at all: why, from the unit's state; some but all ejected or busy: shortly.
        const answer =
          (current?.endpoints.length ?? 0) === 0
            ? unavailable(current ?? route, Date.now())
            : { detail: `"${route.id}" has no ready instance now`, retryAfterSeconds: 1 }
        return refuseUpgrade(socket, 503, answer.detail, unavailableHeaders(answer))
      }
      const requestId = requestIdOf(req.headers)
      state.counters.inFlight++
      proxyUpgrade({
        req,
        socket,
        head,
        endpoint,
        path: state.spec.stripPrefix ? target.rest : url,
        headers: upstreamRequestHeaders(req.headers, {
          clientAddress: client,
          proto: "http",
          requestId,
          forwardAuth: state.spec.forwardAuth,
          prefix: state.spec.stripPrefix ? `/api/${route.id}` : "",
        }),
        requestId,
        connectMs: state.spec.timeouts.connectMs,
        upstreams: this.upstreams,
        done: (ok) => {
          state.counters.inFlight--
          state.counters.answered(req.method ?? "GET", ok ? 101 : 502, 0)
          state.lastActivity = Date.now()
          if (route.onDemand && state.counters.inFlight === 0) this.onDemand.idle(route.id, route.spec.idleMs)
        },
      })
    }
    if (route.endpoints.length > 0 || !route.onDemand) return go()
    this.onDemand.busy(route.id)
    this.onDemand
      .ensure(route.id, route.spec.timeouts.startMs)
      .then((outcome) =>
        outcome === "ready"
          ? go()
          : refuseUpgrade(socket, 503, `"${route.id}" did not become ready in time`, { "retry-after": "5" }),
      )
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  /** Stop routing: pools destroyed (requests still in flight are cut), timers and breakers stopped. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.off()
      this.onDemand.close()
      for (const state of this.states.values()) state.breaker.stop()
      for (const waiting of this.waiters.values()) for (const waiter of waiting) waiter.settle("closed")
      this.waiters.clear()
      for (const socket of this.tunnels) socket.destroy()
      await Promise.all([this.upstreams.close(), this.fixed.close()])
    })()
    return this.closing
  }
}

/** A gateway owned by the current scope: closing the scope closes it. */
export const makeGateway = (options: GatewayOptions): Effect.Effect<Gateway, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const gateway = new Gateway(options)
      // Its in-flight counts feed the autoscaler's target_in_flight; its drain runs before any
      // scale-in (sam scale, the autoscaler), not only its own idle stops.
      const unplug = options.sam.useTraffic(gateway)
      return { gateway, unplug }
    }),
    ({ gateway, unplug }) =>
      Effect.promise(async () => {
        unplug()
        await gateway.close()
      }),
  ).pipe(Effect.map(({ gateway }) => gateway))
