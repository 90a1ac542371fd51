// The proxy's hot path for one admitted request: pick an instance (balancer over the ones not
// ejected), send through its undici Pool with `dispatch()` (the exchange is its own handler:
// body chunks go straight into the ServerResponse, the upstream is paused while the client is
// slow, a client that goes away aborts it), retry an idempotent request that found no answer on
// another instance within the retry budget, and record the outcome (outlier ejection, breaker,
// counters). Plain node:http + undici: no Effect per request. gateway.ts admits and calls this.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http"
import { Transform } from "node:stream"
import type { Dispatcher } from "undici"
import type { BreakerTicket } from "./circuitBreaker.ts"
import type { UpstreamErrorReason } from "./gatewayStats.ts"
import { clientResponseHeaders, type Mount } from "./headers.ts"
import { bodyTooLarge, sendProblem } from "./problems.ts"
import { freshnessMs, invalidatedKeys } from "./responseCache.ts"
import {
  answerThroughHooks,
  holdable,
  hookHeaders,
  maxHookedBodyBytes,
  type ResponseHooks,
} from "./responseHooks.ts"
import type { Endpoint, ServiceRoute } from "./routingTable.ts"
import type { ServiceState } from "./serviceState.ts"
import type { Upstream, Upstreams } from "./upstreams.ts"

/** What the hot path needs of the gateway. */
export interface ForwardEnv {
  readonly upstreams: Upstreams
  /** The service's route in the current snapshot (instances may have changed since admission). */
  readonly route: (id: string) => ServiceRoute | undefined
  /** Called once per request when it is over (answered, failed or abandoned). */
  readonly done: (exchange: Exchange) => void
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])
/** Bodies up to this size are kept in memory so an idempotent request can be sent again. */
const REPLAYABLE_BODY_BYTES = 64 * 1024

export const isRetryableMethod = (method: string, idempotencyKey: unknown): boolean =>
  IDEMPOTENT.has(method) || typeof idempotencyKey === "string"

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
])
const RESET_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED"])

/**
 * Refused on the port SAM gave it: the instance runs but does not listen there, which is every
 * service that serves no HTTP (a worker) or one that ignores $PORT.
 */
const notListening = (id: string) =>
  `; nothing listens on the port SAM gave "${id}": does it serve HTTP on $PORT? (one that serves none: gateway: { enabled: false })`

/** Why an upstream call failed, for retries, problems and counters. */
export const failureReason = (error: Error & { code?: string }): UpstreamErrorReason => {
  const code = error.code ?? ""
  if (CONNECT_CODES.has(code)) return "connect"
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "timeout"
  if (RESET_CODES.has(code)) return "reset"
  if (code === "UND_ERR_ABORTED") return "client_closed"
  return "other"
}

class ClientClosed extends Error {
  readonly code = "UND_ERR_ABORTED"
  constructor() {
    super("the client closed the request")
  }
}

class NoHeadersInTime extends Error {
  readonly code = "UND_ERR_HEADERS_TIMEOUT"
  constructor(ms: number) {
    super(`no response headers within ${ms} ms`)
  }
}

/**
 * ttfb_ms is past with no headers: the attempt ends as undici's own headers timeout would. One
 * that undici has not handed a connection yet (connecting, or queued in the pool) has no
 * controller to abort: the exchange ends here, and onRequestStart aborts it if it ever starts.
 */
const headersLate = (x: Exchange): void => {
  x.ttfbTimer = undefined
  const late = new NoHeadersInTime(x.state.spec.timeouts.ttfbMs)
  x.late = late
  if (!x.inAttempt) {
    // Backing off before a retry.
    noAnswer(x, late)
    return
  }
  if (x.controller !== null) x.controller.abort(late)
  else settle(x, late)
}

/** One client request on its way through the gateway; it is also undici's handler of each attempt. */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly env: ForwardEnv
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly state: ServiceState
  readonly method: Dispatcher.HttpMethod
  /** The path (and query) sent upstream. */
  readonly path: string
  readonly headers: Record<string, string | string[]>
  readonly requestId: string
  /** balance hash: the request's key. */
  readonly hashKey: string | undefined
  /** Set by a plugin route that targets a fixed URL instead of the service's instances. */
  readonly fixedEndpoint: Endpoint | undefined
  readonly ticket: BreakerTicket
  readonly startedAt: number
  body: Buffer | Transform | IncomingMessage | null = null
  retryable: boolean
  attempts = 0
  /** The gateway answered it itself, with a 503: no instance to send it to (the metrics say so). */
  refused = false
  tried: Set<string> | undefined = undefined
  upstream: Upstream | undefined = undefined
  /** undici's controller of the current attempt (set when it starts). */
  controller: Dispatcher.DispatchController | null = null
  /** An attempt is with undici now (its end or error will settle the exchange). */
  inAttempt = false
  /** The response headers went to the client: no retry, no problem answer from here on. */
  sent = false
  status = 0
  ttfbMs = 0
  /**
   * ttfb_ms, timed here from the first attempt (retries, connecting and waiting for a connection
   * included): undici's headers timeout runs on its coarse timers (a ~0.5 s tick), which let a
   * 300 ms bound pass requests answered after 950 ms, and starts only once the request has a
   * connection.
   */
  ttfbTimer: NodeJS.Timeout | undefined = undefined
  /** ttfb_ms passed before any headers: an attempt undici starts after that is aborted at once. */
  late: Error | undefined = undefined
  clientClosed = false
  tooLarge = false
  finished = false
  /** The cache key when this GET may store its answer. */
  cacheKey: string | undefined = undefined
  cacheDone: (() => void) | undefined = undefined
  /** The body kept for the cache while it streams to the client (undefined: not kept). */
  private kept: Buffer[] | undefined = undefined
  private keptBytes = 0
  private keptHeaders: OutgoingHttpHeaders | undefined = undefined
  private upstreamHeaders: IncomingHttpHeaders | undefined = undefined
  private freshForMs = 0
  private resumeOnDrain: (() => void) | undefined = undefined
  /** The head is written and no body byte followed it yet (flushHead sends it alone). */
  private headOnly = false
  /** Plugins' onResponse chain, while any plugin has one (responseHooks.ts). */
  hooks: ResponseHooks | undefined = undefined
  /** Where the service's paths sit among the gateway's: its redirects are pointed back through it. */
  mount: Mount = { client: "", upstream: "" }
  /** The answer held for the hooks: status, headers and the body so far. */
  private held:
    | { status: number; headers: OutgoingHttpHeaders; chunks: Buffer[]; bytes: number }
    | undefined = undefined

  constructor(
    env: ForwardEnv,
    req: IncomingMessage,
    res: ServerResponse,
    state: ServiceState,
    method: Dispatcher.HttpMethod,
    path: string,
    headers: Record<string, string | string[]>,
    requestId: string,
    hashKey: string | undefined,
    fixedEndpoint: Endpoint | undefined,
    ticket: BreakerTicket,
    startedAt: number,
  ) {
    this.env = env
    this.req = req
    this.res = res
    this.state = state
    this.method = method
    this.path = path
    this.headers = headers
    this.requestId = requestId
    this.hashKey = hashKey
    this.fixedEndpoint = fixedEndpoint
    this.ticket = ticket
    this.startedAt = startedAt
    this.retryable = isRetryableMethod(method, req.headers["idempotency-key"])
  }

  // ── undici's handler ───────────────────────────────────────────────────────────────────────

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.clientClosed) controller.abort(new ClientClosed())
    else if (this.late !== undefined) controller.abort(this.late)
  }

  clearTtfb(): void {
    if (this.ttfbTimer === undefined) return
    clearTimeout(this.ttfbTimer)
    this.ttfbTimer = undefined
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200) return
    this.clearTtfb()
    const { res } = this
    this.sent = true
    this.status = statusCode
    this.ttfbMs = Date.now() - this.startedAt
    if (res.destroyed) {
      controller.abort(new ClientClosed())
      return
    }
    const out = clientResponseHeaders(
      headers,
      this.requestId,
      this.state.spec.browserIsolation,
      this.upstream === undefined ? undefined : { instance: this.upstream.url, mount: this.mount },
    )
    const cache = this.state.cache
    if (cache !== undefined && this.upstream !== undefined)
      for (const key of invalidatedKeys(this.method, this.path, statusCode, headers, this.upstream.url))
        cache.invalidate(key)
    if (this.cacheKey !== undefined && this.state.cache !== undefined) {
      out["x-cache"] = "miss"
      this.state.counters.cacheMisses++
      const fresh =
        this.method === "GET" ? freshnessMs(statusCode, headers, this.req.headers, Date.now()) : undefined
      if (fresh !== undefined) {
        this.kept = []
        this.freshForMs = fresh
        this.upstreamHeaders = headers
        const { "x-cache": _miss, "x-request-id": _id, ...stored } = out
        this.keptHeaders = stored
      }
    }
    if (this.hooks !== undefined && holdable(headers)) {
      this.held = { status: statusCode, headers: out, chunks: [], bytes: 0 }
      return
    }
    this.writeHead(controller, statusCode, out)
  }

  /**
   * Send the answer's head; false when node:http refuses a header (a value with control
   * characters): nothing went out, so the attempt is aborted and the answer becomes a 502.
   */
  private writeHead(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: OutgoingHttpHeaders,
  ): boolean {
    try {
      this.res.writeHead(status, headers)
      // node:http holds a head until the first body byte; a service's event stream may flush its
      // head seconds before its first event. A body that came with the head (the same read of the
      // service's socket) still leaves with it: the flush waits for the parser to finish that read.
      this.headOnly = true
      queueMicrotask(() => this.flushHead())
      return true
    } catch (error) {
      this.sent = false
      this.kept = undefined
      controller.abort(error as Error)
      return false
    }
  }

  /** The head went out with no body byte after it in the same read: send it now. */
  private flushHead(): void {
    if (!this.headOnly) return
    this.headOnly = false
    if (!this.res.destroyed) this.res.flushHeaders()
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.headOnly = false
    const held = this.held
    if (held !== undefined) {
      held.chunks.push(chunk)
      held.bytes += chunk.length
      if (held.bytes <= maxHookedBodyBytes) {
        this.keep(chunk)
        return
      }
      // Larger than a hook may hold: what came so far goes out, the rest streams, unhooked.
      this.held = undefined
      if (!this.writeHead(controller, held.status, held.headers)) return
      for (const part of held.chunks.slice(0, -1)) this.res.write(part)
    }
    this.keep(chunk)
    if (this.res.write(chunk)) return
    // The client is slower than the service: hold the service until the client has drained.
    controller.pause()
    this.resumeOnDrain ??= () => this.controller?.resume()
    this.res.once("drain", this.resumeOnDrain)
  }

  /** Keep `chunk` for the cache while the answer may still be stored. */
  private keep(chunk: Buffer): void {
    if (this.kept !== undefined) {
      this.keptBytes += chunk.length
      if (this.state.cache !== undefined && this.keptBytes <= this.state.cache.maxEntryBytes)
        this.kept.push(chunk)
      else this.kept = undefined
    }
  }

  onResponseEnd(): void {
    this.headOnly = false
    const held = this.held
    if (held !== undefined && this.hooks !== undefined) {
      this.held = undefined
      const original = {
        status: held.status,
        headers: hookHeaders(held.headers),
        body: Buffer.concat(held.chunks),
      }
      answerThroughHooks(this.res, this.hooks, original, this.method === "HEAD").then((status) => {
        this.status = status
        this.ended()
      })
      return
    }
    this.res.end()
    this.ended()
  }

  /** The upstream's answer is complete (and sent): store it for the cache, settle the attempt. */
  private ended(): void {
    const cache = this.state.cache
    if (this.kept !== undefined && cache !== undefined && this.cacheKey !== undefined && !this.clientClosed)
      cache.store(
        this.cacheKey,
        this.status,
        this.keptHeaders ?? {},
        this.upstreamHeaders ?? {},
        this.req.headers,
        Buffer.concat(this.kept),
        this.freshForMs,
        Date.now(),
      )
    this.kept = undefined
    settle(this, null)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.kept = undefined
    if (this.held !== undefined) {
      // Nothing of a held answer reached the client: it may still get a retry or a 502.
      this.held = undefined
      this.sent = false
    }
    settle(this, error)
  }
}

const onClientClose = (x: Exchange): void => {
  if (x.res.writableFinished) return
  x.clientClosed = true
  if (x.inAttempt) {
    x.controller?.abort(new ClientClosed())
    return
  }
  // Between attempts (reading the body, backing off) nothing else would end the exchange.
  if (!x.finished) {
    x.state.breaker.release(x.ticket)
    finish(x)
  }
}

/** Prepare the body and send the first attempt. */
export const forward = (x: Exchange): void => {
  x.res.once("close", () => onClientClose(x))
  const { req } = x
  const length = req.headers["content-length"]
  const chunked = req.headers["transfer-encoding"] !== undefined
  if (!chunked && (length === undefined || length === "0")) {
    attempt(x)
    return
  }
  const max = x.state.spec.maxBodyBytes
  if (x.retryable && !chunked && Number(length) <= REPLAYABLE_BODY_BYTES) {
    readBody(x)
    return
  }
  // A streamed body cannot be sent twice.
  x.retryable = false
  req.on("error", () => onClientClose(x))
  if (chunked && max > 0) {
    let seen = 0
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length
        if (seen > max) {
          x.tooLarge = true
          callback(new Error(`the request body is larger than ${max} bytes`))
        } else callback(null, chunk)
      },
    })
    limit.on("error", (error) => x.controller?.abort(error))
    req.pipe(limit)
    x.body = limit
  } else x.body = req
  attempt(x)
}

const readBody = (x: Exchange): void => {
  const chunks: Buffer[] = []
  x.req.on("data", (chunk: Buffer) => chunks.push(chunk))
  x.req.on("error", () => onClientClose(x))
  x.req.on("end", () => {
    x.body = Buffer.concat(chunks)
    if (x.clientClosed) finish(x)
    else attempt(x)
  })
}

/** Send the request to one instance. */
const attempt = (x: Exchange): void => {
  if (x.clientClosed || x.finished) {
    finish(x)
    return
  }
  const now = Date.now()
  let endpoint = x.fixedEndpoint
  if (endpoint === undefined) {
    const endpoints = x.env.route(x.state.id)?.endpoints ?? []
    let candidates = x.state.outlier.eligible(endpoints, now)
    if (x.tried !== undefined && candidates.length > 1) {
      const tried = x.tried
      const untried = candidates.filter((e) => !tried.has(e.url))
      if (untried.length > 0) candidates = untried
    }
    endpoint =
      candidates.length === 1
        ? candidates[0]
        : x.state.balancer.pick(candidates, {
            now,
            inFlight: (e) => x.env.upstreams.inFlightAt(e.url),
            ...(x.hashKey === undefined ? {} : { key: x.hashKey }),
          })
  }
  if (endpoint === undefined) {
    x.state.breaker.release(x.ticket)
    answerProblem(x, 503, `"${x.state.id}" has no ready instance now`, { "retry-after": "1" })
    return
  }
  const { spec } = x.state
  const upstream = x.env.upstreams.get(
    endpoint.url,
    endpoint.unit,
    endpoint.instance,
    spec.timeouts.connectMs,
  )
  x.upstream = upstream
  x.inAttempt = true
  x.controller = null
  x.env.upstreams.enter(upstream)
  if (x.attempts === 0 && spec.timeouts.ttfbMs > 0)
    x.ttfbTimer = setTimeout(headersLate, spec.timeouts.ttfbMs, x)
  x.attempts++
  x.state.budget.request(now)
  upstream.pool.dispatch(
    {
      path: x.path,
      method: x.method,
      headers: x.headers,
      body: x.body,
      bodyTimeout: spec.timeouts.idleMs,
      // The gateway decides retries itself (never after the first byte).
      idempotent: false,
    },
    x,
  )
}

/** The exchange with one instance is over (its body ended, or it failed). */
const settle = (x: Exchange, error: Error | null): void => {
  if (!x.inAttempt) return
  x.inAttempt = false
  const upstream = x.upstream as Upstream
  x.env.upstreams.leave(upstream)
  const now = Date.now()
  const { state } = x
  if (error === null) {
    const failed = x.status >= 500
    if (failed) state.outlier.recordFailure(upstream.url, now, x.env.route(state.id)?.endpoints.length ?? 1)
    else state.outlier.recordSuccess(upstream.url, now)
    state.breaker.record(x.ticket, now, failed, x.ttfbMs)
    finish(x)
    return
  }
  const reason = x.clientClosed ? "client_closed" : failureReason(error as Error & { code?: string })
  state.counters.upstreamError(reason)
  if (reason === "client_closed") {
    state.breaker.release(x.ticket)
    if (!x.res.destroyed) x.res.destroy()
    finish(x)
    return
  }
  if (x.tooLarge) {
    state.breaker.release(x.ticket)
    answerProblem(x, 413, bodyTooLarge(state.id, state.spec.maxBodyBytes), { connection: "close" })
    return
  }
  if (reason === "connect" || reason === "reset")
    state.outlier.recordFailure(upstream.url, now, x.env.route(state.id)?.endpoints.length ?? 1)
  if (x.sent) {
    // Mid-body: the client has the status line already; all that is left is to cut it off.
    state.breaker.record(x.ticket, now, true, x.ttfbMs)
    x.res.destroy()
    finish(x)
    return
  }
  const again =
    x.retryable &&
    (reason === "connect" || reason === "reset") &&
    x.attempts < state.spec.retries.attempts &&
    state.budget.tryRetry(now)
  if (again) {
    state.counters.retries++
    x.tried ??= new Set()
    x.tried.add(upstream.url)
    const base = state.spec.retries.backoffMs * 2 ** (x.attempts - 1)
    const delay = base * (0.5 + Math.random())
    if (delay < 1) attempt(x)
    else setTimeout(attempt, delay, x).unref()
    return
  }
  noAnswer(x, error, upstream)
}

/** The request got no answer and will not be tried again: a 504 (ttfb_ms) or 502 that says why. */
const noAnswer = (x: Exchange, error: Error & { code?: string }, upstream?: Upstream): void => {
  const { state } = x
  const reason = failureReason(error)
  state.breaker.record(x.ticket, Date.now(), true, Date.now() - x.startedAt)
  const detail =
    reason === "timeout"
      ? `"${state.id}" sent no response headers within ${state.spec.timeouts.ttfbMs} ms (gateway.timeouts.ttfb_ms)`
      : reason === "connect"
        ? `cannot connect to "${state.id}" (${upstream?.url}): ${error.message}${error.code === "ECONNREFUSED" ? notListening(state.id) : ""}`
        : `"${state.id}" closed the connection without an answer (${error.message})`
  answerProblem(x, reason === "timeout" ? 504 : 502, detail)
}

const answerProblem = (
  x: Exchange,
  status: number,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): void => {
  x.status = status
  sendProblem(x.res, status, detail, { ...headers, "x-request-id": x.requestId })
  finish(x)
}

const finish = (x: Exchange): void => {
  if (x.finished) return
  x.finished = true
  x.clearTtfb()
  x.cacheDone?.()
  x.env.done(x)
}
