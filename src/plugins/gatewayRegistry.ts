// The gateway's plugin routes and hook chain, filled by plugins and served by the gateway under
// /api/<prefix> (src/gateway/gateway.ts). Routes map a path prefix to a target URL or an
// in-process handler; middleware are named hooks run around every gateway request. Pure data.
import type { IncomingMessage, ServerResponse } from "node:http"
import { Data } from "effect"

export interface GatewayRoute {
  /** Path prefix matched on segment boundaries: "/qdrant" matches "/qdrant" and "/qdrant/x". */
  readonly prefix: string
  /** Proxy to this base URL, or a unit by id as `unit:<id>` (resolved by the gateway). */
  readonly target?: string
  /** Serve in process instead of proxying. */
  readonly handler?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
  /** Drop the prefix before forwarding (default true). */
  readonly stripPrefix?: boolean
}

export interface GatewayRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The matched route's prefix, when one matched. */
  readonly route?: string
}

export interface GatewayResponse {
  readonly status: number
  /** Lower-case names; a header sent several times (set-cookie) is a list. */
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** For onResponse, the body as the service sent it (still compressed if it was). */
  readonly body?: string | Uint8Array
}

export interface GatewayMiddleware {
  /** Lower runs first (default 0); equal priorities run in plugin load order. */
  readonly priority?: number
  /** Before routing. Return a response to answer without proxying (auth, rate limits). */
  readonly onRequest?: (
    request: GatewayRequest,
  ) => GatewayResponse | undefined | Promise<GatewayResponse | undefined>
  /** After the upstream answered; may return a replacement response. */
  readonly onResponse?: (
    request: GatewayRequest,
    response: GatewayResponse,
  ) => GatewayResponse | undefined | Promise<GatewayResponse | undefined>
}

export type GatewayHook = "onRequest" | "onResponse"

export class GatewayConflict extends Data.TaggedError("GatewayConflict")<{
  readonly prefix: string
  readonly message: string
}> {}

interface RouteEntry {
  readonly owner: string
  readonly route: GatewayRoute
}

interface MiddlewareEntry {
  readonly owner: string
  readonly hooks: GatewayMiddleware
  readonly seq: number
}

/** "/a/b/" → "/a/b"; always starts with "/". */
export const normalizePrefix = (prefix: string): string => {
  const withSlash = prefix.startsWith("/") ? prefix : `/${prefix}`
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, "") : withSlash
}

export class GatewayRegistry {
  private readonly routes = new Map<string, RouteEntry>()
  private readonly middlewares: MiddlewareEntry[] = []
  private readonly ownerRank = new Map<string, number>()
  private seq = 0

  /** How many routes are registered (the gateway skips matching when there are none). */
  get size(): number {
    return this.routes.size
  }

  /** Middleware of a hook kind are registered (the gateway skips the chain when none are). */
  hasHooks(hook: GatewayHook): boolean {
    return this.middlewares.some((e) => e.hooks[hook] !== undefined)
  }

  /**
   * Add a route owned by `owner`. A prefix held by another owner is refused; the same owner
   * (a new version of a plugin) replaces its own, and the old version's removal is then a no-op.
   */
  addRoute(owner: string, route: GatewayRoute): () => void {
    if (route.target === undefined && route.handler === undefined)
      throw new GatewayConflict({
        prefix: route.prefix,
        message: `gateway route "${route.prefix}" needs a target or a handler`,
      })
    const prefix = normalizePrefix(route.prefix)
    const held = this.routes.get(prefix)
    if (held && held.owner !== owner)
      throw new GatewayConflict({
        prefix,
        message: `gateway route "${prefix}" is already registered by ${held.owner}; choose another prefix`,
      })
    const entry: RouteEntry = { owner, route: { ...route, prefix } }
    this.routes.set(prefix, entry)
    return () => {
      if (this.routes.get(prefix) === entry) this.routes.delete(prefix)
    }
  }

  /** Longest prefix matching `path` on a segment boundary. */
  match(path: string): (GatewayRoute & { readonly owner: string }) | undefined {
    const pathname = path.split("?")[0] ?? path
    let best: RouteEntry | undefined
    for (const [prefix, entry] of this.routes) {
      const hit = prefix === "/" || pathname === prefix || pathname.startsWith(`${prefix}/`)
      if (hit && (!best || prefix.length > best.route.prefix.length)) best = entry
    }
    return best && { ...best.route, owner: best.owner }
  }

  addMiddleware(owner: string, hooks: GatewayMiddleware): () => void {
    if (!this.ownerRank.has(owner)) this.ownerRank.set(owner, this.ownerRank.size)
    const entry: MiddlewareEntry = { owner, hooks, seq: this.seq++ }
    this.middlewares.push(entry)
    return () => {
      const at = this.middlewares.indexOf(entry)
      if (at >= 0) this.middlewares.splice(at, 1)
    }
  }

  /** The hooks of one kind in run order (priority, then plugin load order, then registration). */
  hooks<H extends GatewayHook>(
    hook: H,
  ): ReadonlyArray<{ owner: string; run: NonNullable<GatewayMiddleware[H]> }> {
    const rank = (e: MiddlewareEntry) => this.ownerRank.get(e.owner) ?? 0
    return this.middlewares
      .filter((e) => e.hooks[hook] !== undefined)
      .sort((a, b) => (a.hooks.priority ?? 0) - (b.hooks.priority ?? 0) || rank(a) - rank(b) || a.seq - b.seq)
      .map((e) => ({ owner: e.owner, run: e.hooks[hook] as NonNullable<GatewayMiddleware[H]> }))
  }

  /** Run the `onRequest` chain; the first response returned answers the request. */
  async runOnRequest(request: GatewayRequest): Promise<GatewayResponse | undefined> {
    for (const { run } of this.hooks("onRequest")) {
      const response = await run(request)
      if (response) return response
    }
    return undefined
  }

  /** Run the `onResponse` chain; each hook sees the previous hook's response. */
  async runOnResponse(request: GatewayRequest, response: GatewayResponse): Promise<GatewayResponse> {
    let current = response
    for (const { run } of this.hooks("onResponse")) current = (await run(request, current)) ?? current
    return current
  }

  list(): ReadonlyArray<{ prefix: string; owner: string; target?: string }> {
    return [...this.routes.values()].map((e) => ({
      prefix: e.route.prefix,
      owner: e.owner,
      ...(e.route.target === undefined ? {} : { target: e.route.target }),
    }))
  }
}
