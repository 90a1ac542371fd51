// The proxy's hot path for one admitted request: pick an instance (balancer over the ones not
// ejected), send through its undici Pool with `stream()` (the upstream body goes straight into the
// ServerResponse, with its backpressure), retry an idempotent request that found no answer on
// another instance within the retry budget, and record the outcome (outlier ejection, breaker,
// counters). Plain node:http + undici: no Effect per request. gateway.ts admits and calls this.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http"
import { Transform, Writable } from "node:stream"
import type { Dispatcher } from "undici"
import type { BreakerTicket } from "./circuitBreaker.ts"
import type { UpstreamErrorReason } from "./gatewayStats.ts"
import { clientResponseHeaders } from "./headers.ts"
import { sendProblem } from "./problems.ts"
import { freshnessMs, type ResponseCache } from "./responseCache.ts"
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

/** One client request on its way through the gateway. */
export interface Exchange {
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
  /** Set by the plugin route that targets a fixed URL instead of the service's instances. */
  readonly fixedEndpoint: Endpoint | undefined
  readonly ticket: BreakerTicket
  readonly startedAt: number
  body: Buffer | Transform | IncomingMessage | null
  retryable: boolean
  attempts: number
  tried: Set<string> | undefined
  upstream: Upstream | undefined
  controller: AbortController
  /** An attempt is with undici now (its callback will settle the exchange). */
  inAttempt: boolean
  /** The response headers went to the client: no retry, no problem answer from here on. */
  sent: boolean
  status: number
  ttfbMs: number
  clientClosed: boolean
  tooLarge: boolean
  finished: boolean
  /** The cache key when this GET may store its answer. */
  cacheKey: string | undefined
  cacheDone: (() => void) | undefined
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

/** Why an upstream call failed, for retries, problems and counters. */
export const failureReason = (error: Error & { code?: string }): UpstreamErrorReason => {
  const code = error.code ?? ""
  if (CONNECT_CODES.has(code)) return "connect"
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "timeout"
  if (RESET_CODES.has(code)) return "reset"
  if (code === "UND_ERR_ABORTED") return "client_closed"
  return "other"
}

const onClientClose = (x: Exchange): void => {
  if (x.res.writableFinished) return
  x.clientClosed = true
  x.controller.abort()
  // Between attempts (reading the body, backing off) nothing else would end the exchange.
  if (!x.inAttempt && !x.finished) {
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
    x.body = null
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
    req.on("error", (error) => limit.destroy(error))
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
    const route = x.env.route(x.state.id)
    const endpoints = route?.endpoints ?? []
    let candidates = x.state.outlier.eligible(endpoints, now)
    if (x.tried !== undefined && candidates.length > 1) {
      const tried = x.tried
      const untried = candidates.filter((e) => !tried.has(e.url))
      if (untried.length > 0) candidates = untried
    }
    endpoint = x.state.balancer.pick(candidates, {
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
  x.env.upstreams.enter(upstream)
  x.attempts++
  x.state.budget.request(now)
  upstream.pool.stream<Exchange>(
    {
      path: x.path,
      method: x.method,
      headers: x.headers,
      body: x.body,
      signal: x.controller.signal,
      headersTimeout: spec.timeouts.ttfbMs,
      bodyTimeout: spec.timeouts.idleMs,
      opaque: x,
      // The gateway decides retries itself (never after the first byte).
      idempotent: false,
    },
    onHeaders,
    onEnd,
  )
}

/** The upstream's headers are in: answer the client with them and hand undici the writable. */
function onHeaders(this: unknown, data: Dispatcher.StreamFactoryData<Exchange>): Writable {
  const x = data.opaque
  const { res } = x
  x.sent = true
  x.status = data.statusCode
  x.ttfbMs = Date.now() - x.startedAt
  x.state.counters.ttfb.observe(x.ttfbMs / 1000)
  const headers = clientResponseHeaders(data.headers, x.requestId)
  const cache = x.state.cache
  if (x.cacheKey !== undefined && cache !== undefined) {
    headers["x-cache"] = "miss"
    x.state.counters.cacheMisses++
    const fresh =
      x.method === "GET" ? freshnessMs(data.statusCode, data.headers, x.req.headers, Date.now()) : undefined
    if (fresh !== undefined && !res.destroyed) {
      res.writeHead(data.statusCode, headers)
      return storing(x, cache, x.cacheKey, data, headers, fresh)
    }
  }
  if (res.destroyed) return res
  res.writeHead(data.statusCode, headers)
  return res
}

/** A writable that passes the body to the client and keeps a copy for the cache. */
const storing = (
  x: Exchange,
  cache: ResponseCache,
  key: string,
  data: Dispatcher.StreamFactoryData<Exchange>,
  headers: OutgoingHttpHeaders,
  freshForMs: number,
): Writable => {
  const { res } = x
  let chunks: Buffer[] | undefined = []
  let size = 0
  const tee = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (chunks !== undefined) {
        size += chunk.length
        if (size > cache.maxEntryBytes) chunks = undefined
        else chunks.push(chunk)
      }
      if (res.write(chunk)) callback()
      else res.once("drain", () => callback())
    },
    final(callback) {
      res.end()
      if (chunks !== undefined && !x.clientClosed) {
        const { "x-cache": _miss, "x-request-id": _id, ...stored } = headers
        cache.store(
          key,
          data.statusCode,
          stored,
          data.headers,
          x.req.headers,
          Buffer.concat(chunks),
          freshForMs,
          Date.now(),
        )
      }
      callback()
    },
  })
  res.once("close", () => {
    if (!tee.writableFinished) tee.destroy()
  })
  return tee
}

/** The exchange with one instance is over (its body ended, or it failed). */
function onEnd(this: unknown, error: Error | null, data: Dispatcher.StreamData<Exchange>): void {
  settle(data.opaque, error)
}

const settle = (x: Exchange, error: Error | null): void => {
  x.inAttempt = false
  const upstream = x.upstream as Upstream
  x.env.upstreams.leave(upstream)
  const now = Date.now()
  const { state } = x
  const total = x.env.route(state.id)?.endpoints.length ?? 1
  if (error === null) {
    const failed = x.status >= 500
    if (failed) state.outlier.recordFailure(upstream.url, now, total)
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
    answerProblem(x, 413, `the request body is larger than the limit of ${state.spec.maxBodyBytes} bytes`, {
      connection: "close",
    })
    return
  }
  if (reason === "connect" || reason === "reset") state.outlier.recordFailure(upstream.url, now, total)
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
    x.controller = new AbortController()
    const base = state.spec.retries.backoffMs * 2 ** (x.attempts - 1)
    const delay = base * (0.5 + Math.random())
    if (delay < 1) attempt(x)
    else setTimeout(attempt, delay, x).unref()
    return
  }
  state.breaker.record(x.ticket, now, true, Date.now() - x.startedAt)
  const detail =
    reason === "timeout"
      ? `"${state.id}" sent no response headers within ${state.spec.timeouts.ttfbMs} ms (gateway.timeouts.ttfb_ms)`
      : reason === "connect"
        ? `cannot connect to "${state.id}" (${upstream.url}): ${error.message}`
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
  x.cacheDone?.()
  x.env.done(x)
}
