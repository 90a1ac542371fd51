// The control API server: node:http on api.host:api.port in front of the Effect HttpApi
// (controlApi.ts), which also serves the plugin host's routes. Node's own limits guard against
// slow clients (headers and request timeouts); every request then passes the request guards
// (requestGuards.ts: path encoding, body limit) and the router, and every error SAM answers is
// application/problem+json: a wrong method on a known path is 405 with `Allow`. Every endpoint but
// GET /api/openapi.json needs a credential (configured tokens, else the local token); `GET /` is
// where a browser signs in (browserLogin.ts).
// close() ends open event streams, lets requests in flight finish, then closes every connection.
// /api/<service>/... is the gateway's (src/gateway): such a request goes to it before the Effect
// handler is touched, and so do its WebSocket upgrades. Before either, a server bound to loopback
// refuses a Host that is no loopback name (hostCheck.ts: DNS rebinding), with a 421; before that, an
// absolute-form target is made origin form (requestTarget.ts), so every check sees the same request.
import { readFileSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Socket } from "node:net"
import type { Duplex } from "node:stream"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Predicate from "effect/Predicate"
import * as Scope from "effect/Scope"
import type { AuditLog } from "../audit/auditLog.ts"
import { type Gateway, makeGateway } from "../gateway/gateway.ts"
import { nodeHttp } from "../runtime/os/nodeHttp.ts"
import type { Sam } from "../runtime/sam.ts"
import type { CrashReportsTable } from "../runtime/store/crashReports.ts"
import type { ApiHandler } from "./apiApp.ts"
import type { ApiContextShape, MonitoringBackend, PluginBackend } from "./apiContext.ts"
import { metricsRoute } from "./apiPaths.ts"
import { type ApiTokenConfig, Authenticator, bindRefusal, isLoopbackHost, weakTokens } from "./auth.ts"
import { continueGate } from "./continueGate.ts"
import { bracketed, hostGuard } from "./hostCheck.ts"
import { LOCAL_TOKEN_NAME } from "./localToken.ts"
import { PROBLEM_JSON, problemBody } from "./problemBody.ts"
import { toOriginForm } from "./requestTarget.ts"
import { ProcessUsage } from "./resources.ts"
import { SessionStore, type SessionTable } from "./sessions.ts"

export interface ApiServerOptions {
  readonly sam: Sam
  /** Default 127.0.0.1. A non-loopback host needs configured tokens. */
  readonly host?: string
  /** Default 7070; 0 picks a free port (see `url`). */
  readonly port?: number
  /** security.api_tokens (each at least 16 characters). */
  readonly tokens?: Readonly<Record<string, ApiTokenConfig>>
  /**
   * The local admin token (localToken.ts), accepted as the admin "local"; the daemon passes it
   * when no tokens are configured. With neither, the server refuses to start: no open API.
   */
  readonly localToken?: string
  /** How long a browser session signed in with the login link lasts (default 12 hours). */
  readonly sessionLifetimeMs?: number
  /**
   * Where browser sessions are kept: the runtime store's table (`sam.store.browserSessions`), so a
   * SAM restart keeps everyone signed in. None: in memory, gone with the server.
   */
  readonly browserSessions?: SessionTable
  readonly audit?: AuditLog
  /** The plugin host: its plugins, their routes under /api/plugins/<name>/ and config reload. */
  readonly plugins?: PluginBackend
  /** The runtime store's crash reports, for GET /api/crashes (none: those answer 501). */
  readonly crashReports?: Pick<CrashReportsTable, "list" | "get">
  /**
   * SAM's monitoring (src/metrics): GET at its metrics path, the units' history, GET /api/alerts and
   * the watchdog in GET /api/status. None: those answer 404 / 501.
   */
  readonly monitoring?: MonitoringBackend
  /** Where disk space is measured (default the working directory). */
  readonly stateDir?: string
  /** Largest request body accepted (default 1 MiB). */
  readonly maxBodyBytes?: number
  /** A client must send its headers within this (default 10 s)... */
  readonly headersTimeoutMs?: number
  /** ...and its whole request within this (default 30 s); Node answers 408 otherwise. */
  readonly requestTimeoutMs?: number
  /** Comment lines on idle event streams (default 15 s). */
  readonly heartbeatMs?: number
  /** How long close() lets requests in flight finish before cutting connections (default 5 s). */
  readonly shutdownGraceMs?: number
  /** Deadline of an invocation without timeout_seconds (default 60 s). */
  readonly invokeTimeoutMs?: number
  /** Told about answers SAM failed to give (500s): a bug to report, never the client's fault. */
  readonly onError?: (message: string) => void
  /**
   * The gateway serving /api/<service>/...: by default one made for this server (closed with it);
   * pass one to share it (the autoscaler's in-flight counts), or false to serve none.
   */
  readonly gateway?: Gateway | false
  /**
   * Stop SAM as a whole (its units, then this server): what POST /api/shutdown asks for, with who
   * asked. None (SAM embedded in a program): that endpoint answers 501.
   */
  readonly onShutdownRequest?: (by: string) => void
}

export interface ApiServer {
  /** http://host:port as bound (the real port when 0 was asked for). */
  readonly url: string
  readonly host: string
  readonly port: number
  /** The gateway on this server's port (undefined with `gateway: false`). */
  readonly gateway: Gateway | undefined
  /**
   * Accept these credentials from now on, and only these (a config reload of security.api_tokens):
   * requests, browser sessions and open streams signed in with a token that changed or went away
   * get 401 from their next check. Throws ApiServeError, keeping the credentials it had, for a set
   * `startApiServer` would refuse (none, a token too short, only the local token off loopback).
   */
  setTokens(credentials: Pick<ApiServerOptions, "tokens" | "localToken">): void
  /** End event streams, finish requests in flight (up to the grace), close every connection. */
  close(): Promise<void>
}

/**
 * The API could not be served: no credential at all, a token too short, only the local token on a
 * non-loopback host, or the address is taken.
 */
export class ApiServeError extends Data.TaggedError("ApiServeError")<{
  readonly reason: "no-credential" | "weak-token" | "unsafe-bind" | "listen"
  readonly message: string
}> {}

export const isApiServeError = (u: unknown): u is ApiServeError => Predicate.isTagged(u, "ApiServeError")

const version = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string
    }
    return pkg.version ?? "unknown"
  } catch {
    return "unknown"
  }
})()

const sendProblem = (
  res: ServerResponse,
  status: number,
  detail: string,
  extra: Readonly<Record<string, unknown>> = {},
): void => {
  if (res.headersSent || res.writableEnded) return
  res
    .writeHead(status, { "content-type": PROBLEM_JSON })
    .end(JSON.stringify(problemBody(status, detail, extra)))
}

/** Start serving the control API for `sam`; rejects with ApiServeError when it cannot. */
/** The credentials a server on `host` accepts: the configured tokens and the local token, checked. */
const credentialSet = (
  host: string,
  options: Pick<ApiServerOptions, "tokens" | "localToken">,
): Record<string, ApiTokenConfig> => {
  const configured = options.tokens ?? {}
  const tokens: Record<string, ApiTokenConfig> = {
    ...(options.localToken === undefined
      ? {}
      : { [LOCAL_TOKEN_NAME]: { token: options.localToken, role: "admin" } }),
    ...configured,
  }
  if (Object.keys(tokens).length === 0)
    throw new ApiServeError({
      reason: "no-credential",
      message:
        "the control API needs a credential: pass tokens (security.api_tokens) or the local token " +
        "(ensureLocalToken(stateDir).token as localToken)",
    })
  const weak = weakTokens(tokens)
  if (weak.length > 0) throw new ApiServeError({ reason: "weak-token", message: weak.join("; ") })
  const refusal = bindRefusal(host, Object.keys(configured).length)
  if (refusal) throw new ApiServeError({ reason: "unsafe-bind", message: refusal })
  return tokens
}

/** Start serving the control API for `sam`; rejects with ApiServeError when it cannot. */
export const startApiServer = async (options: ApiServerOptions): Promise<ApiServer> => {
  const host = options.host ?? "127.0.0.1"
  const authenticator = new Authenticator(credentialSet(host, options))
  const sessions = new SessionStore({
    credentials: (name) => authenticator.credential(name),
    ...(options.browserSessions === undefined ? {} : { table: options.browserSessions }),
    ...(options.sessionLifetimeMs === undefined ? {} : { lifetimeMs: options.sessionLifetimeMs }),
  })
  let boundPort = options.port ?? 7070

  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const shutdown = new AbortController()
  const report = options.onError ?? (() => {})
  const scope = Effect.runSync(Scope.make())
  const gateway =
    options.gateway === false
      ? undefined
      : (options.gateway ??
        Effect.runSync(
          makeGateway({
            sam: options.sam,
            ...(options.plugins?.gateway === undefined ? {} : { routes: options.plugins.gateway }),
            authenticate: (header) => authenticator.authenticate(header),
            loopback: isLoopbackHost(host),
            report,
            refused: (source, service, status) => options.audit?.refused(source, { service, status }),
          }).pipe(Scope.provide(scope)),
        ))
  const context: ApiContextShape = {
    sam: options.sam,
    plugins: options.plugins,
    audit: options.audit,
    crashReports: options.crashReports,
    monitoring: options.monitoring,
    gateway,
    authenticator,
    sessions,
    port: () => boundPort,
    usage: new ProcessUsage(),
    shutdown: shutdown.signal,
    requestShutdown: options.onShutdownRequest,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    stateDir: options.stateDir ?? process.cwd(),
    version,
    invokeTimeoutMs: options.invokeTimeoutMs ?? 60_000,
  }

  // The HttpApi, its handlers and the dashboard are loaded and built on the first request they
  // answer (apiApp.ts): a SAM nobody asks keeps them out of its memory (bench/RESULTS.md).
  let app: Promise<ApiHandler> | undefined
  const appHandler = (): Promise<ApiHandler> => {
    app ??= import("./apiApp.ts").then(({ buildApiApp }) =>
      buildApiApp({ context, scope, maxBodyBytes, report }),
    )
    return app
  }
  const effectHandler: ApiHandler = (req, res) => {
    appHandler().then(
      (handler) => handler(req, res),
      (error: unknown) => {
        report(
          `control API failed to load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        )
        sendProblem(res, 500, "SAM failed to load its control API; see SAM's log")
      },
    )
  }

  let closing = false
  const metricsPath = options.monitoring?.settings.path ?? metricsRoute
  const hostRefusalOf = hostGuard(host)
  const front = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      if (closing) res.setHeader("connection", "close")
      const untargeted = toOriginForm(req)
      if (untargeted !== undefined) {
        sendProblem(res, 400, untargeted)
        return
      }
      const misdirected = hostRefusalOf(req.headers.host)
      if (misdirected !== undefined) {
        sendProblem(res, 421, misdirected, {
          type: "urn:sam:problem:host-not-allowed",
          host: req.headers.host,
        })
        return
      }
      // The metrics endpoint is routed at /metrics; monitoring.metrics.path moves it.
      if (metricsPath !== metricsRoute) {
        const url = req.url ?? "/"
        const path = pathOf(url)
        if (path === metricsPath) req.url = `${metricsRoute}${url.slice(path.length)}`
        else if (path === metricsRoute) {
          sendProblem(res, 404, `no route ${req.method} ${path}; metrics are served at ${metricsPath}`)
          return
        }
      }
      if (gateway?.claims(req.url)) gateway.handle(req, res)
      else effectHandler(req, res)
    } catch (error) {
      report(
        `control API front door failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      )
      sendProblem(res, 500, "SAM failed to answer this request; see SAM's log")
    }
  }

  const headersTimeout = options.headersTimeoutMs ?? 10_000
  const server = nodeHttp().createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 5_000,
      // Only the gateway's paths upgrade; any other Upgrade request is an ordinary request (one
      // with a Host refused above gets its 421 there).
      shouldUpgradeCallback: (req) =>
        toOriginForm(req) === undefined &&
        hostRefusalOf(req.headers.host) === undefined &&
        (gateway?.claims(req.url) ?? false),
    },
    front,
  )
  // `Expect: 100-continue`: only a request SAM would read the body of is told to send it; any
  // other gets its refusal (421, 401, 403, 413) first, having sent none of it (continueGate.ts).
  const welcomesBody = continueGate({
    credentials: context,
    hostRefusal: hostRefusalOf,
    gateway,
    maxBodyBytes,
  })
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (toOriginForm(req) === undefined && welcomesBody(req)) res.writeContinue()
    front(req, res)
  })
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    gateway?.upgrade(req, socket, head),
  )
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket))

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening)
      reject(
        new ApiServeError({
          reason: "listen",
          message:
            error.code === "EADDRINUSE"
              ? `cannot serve the control API on ${host}:${options.port ?? 7070}: the address is in use. ` +
                "Is SAM already running (`sam status`)? Otherwise set api.port (or `sam start --port`)."
              : `cannot serve the control API on ${host}:${options.port ?? 7070}: ${error.message}`,
        }),
      )
    }
    const onListening = () => {
      server.off("error", onError)
      resolve()
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen({ host, port: options.port ?? 7070 })
  }).catch(async (error: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  })

  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 7070)
  boundPort = port
  let closed: Promise<void> | undefined
  return {
    url: `http://${bracketed(host)}:${port}`,
    setTokens: (credentials) => authenticator.replace(credentialSet(host, credentials)),
    host,
    port,
    gateway,
    close: () => {
      closed ??= (async () => {
        closing = true
        shutdown.abort()
        const done = new Promise<void>((resolve) => server.close(() => resolve()))
        // Connections go idle as their last response ends (event streams just did): close them then.
        const sweep = setInterval(() => server.closeIdleConnections(), 25)
        const cut = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 5_000)
        server.closeIdleConnections()
        await done
        clearInterval(sweep)
        clearTimeout(cut)
        await Effect.runPromise(Scope.close(scope, Exit.void))
      })()
      return closed
    },
  }
}

const clientErrorStatus: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
}

/** Malformed requests, slow clients and oversized headers get a problem and a closed connection. */
const answerClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
  const status = clientErrorStatus[error.code ?? ""] ?? 400
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy()
    return
  }
  const detail =
    status === 408
      ? "the request was not received in time (slow client); send it again"
      : status === 431
        ? "the request headers are too large"
        : "the request is not valid HTTP"
  const body = JSON.stringify(problemBody(status, detail))
  socket.end(
    `HTTP/1.1 ${status} ${status === 408 ? "Request Timeout" : status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
      `content-type: ${PROBLEM_JSON}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

const pathOf = (url: string) => url.split("?")[0] ?? url
