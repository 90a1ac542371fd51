// Header rules of the proxy: hop-by-hop headers (RFC 9110 §7.6.1, and any named in Connection)
// never cross it; the request gains X-Forwarded-For/Proto/Host/Prefix and an X-Request-Id (the
// client's when it sent one); Authorization is dropped unless the service asked for it; an
// answer's Location and Content-Location on the instance's own origin point back through the gateway. Services share
// SAM's origin, so SAM's session cookies never reach one and none may set them, and an answer
// is sandboxed in the browser unless the service opted out (gateway.browser_isolation). Pure.
import { randomUUID } from "node:crypto"
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http"
import { cookieValues } from "../api/cookieHeader.ts"
import { isSessionCookieName } from "../api/sessions.ts"

/**
 * What a gateway answer is given with browser isolation on: the document gets an opaque origin (no
 * allow-same-origin), so its requests to the control API carry no SameSite=Strict cookie and say
 * `Origin: null`; scripts, forms, popups (sandboxed too), downloads and dialogs still work, and it
 * cannot navigate a frame's top.
 */
export const BROWSER_ISOLATION_CSP =
  "sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals"

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings",
  // node:http has already answered a client's `Expect: 100-continue` (it sends 100 Continue before
  // the request reaches the gateway), and undici refuses to send the header: forwarded, every such
  // request (curl's uploads over 1 MiB) was a 502 that counted against the service's breaker.
  "expect",
])

/** Headers named in `Connection: a, b` are hop-by-hop too. */
const connectionTokens = (value: string | string[] | undefined): ReadonlySet<string> | undefined => {
  if (value === undefined) return undefined
  const tokens = (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "" && t !== "close" && t !== "keep-alive")
  return tokens.length === 0 ? undefined : new Set(tokens)
}

/** The name of a `name=value` pair (a cookie or the first part of a Set-Cookie); all of it without "=". */
const cookiePairName = (pair: string): string => {
  const eq = pair.indexOf("=")
  return (eq < 0 ? pair : pair.slice(0, eq)).trim()
}

/** A Cookie header without SAM's session cookies; undefined when nothing else is left. */
export const withoutSessionCookies = (header: string): string | undefined => {
  const kept = header
    .split(";")
    .filter((pair) => pair.trim() !== "" && !isSessionCookieName(cookiePairName(pair)))
    .map((pair) => pair.trim())
  return kept.length === 0 ? undefined : kept.join("; ")
}

/** Whether a Set-Cookie value would set (or clear) a SAM session cookie. */
const setsSessionCookie = (value: string): boolean =>
  isSessionCookieName(cookiePairName(value.split(";", 1)[0] ?? ""))

export interface ForwardInfo {
  readonly clientAddress: string
  readonly proto: "http" | "https"
  readonly requestId: string
  readonly forwardAuth: boolean
  /** The gateway's path prefix the service's paths sit under (`/api/<id>`): X-Forwarded-Prefix. */
  readonly prefix?: string
}

/**
 * Where a service's paths sit among the gateway's: the client's path `client + p` is the path
 * `upstream + p` at the instance (`/api/web` and "" for a service with strip_prefix; "" and "" for
 * one without, whose paths are the gateway's own).
 */
export interface Mount {
  readonly client: string
  readonly upstream: string
}

/** Loopback names for one address: a service on 127.0.0.1 may name itself `localhost` or `[::1]`. */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"])

/** Whether `url` is on the instance's `origin`, a loopback instance by any of its loopback names. */
const sameInstance = (url: URL, origin: string): boolean => {
  if (url.origin === origin) return true
  const instance = URL.parse(origin)
  return (
    instance !== null &&
    url.protocol === instance.protocol &&
    url.port === instance.port &&
    LOOPBACK_NAMES.has(url.hostname) &&
    LOOPBACK_NAMES.has(instance.hostname)
  )
}

/** A Location-like value on `origin`, pointed back through the gateway's `mount`; others as they are. */
const throughGateway = (value: string, origin: string, mount: Mount): string => {
  // Only an absolute URL names the instance's origin; a root-relative one is left as it is.
  const url = URL.parse(value)
  if (url === null || !sameInstance(url, origin)) return value
  const path = url.pathname
  const { upstream } = mount
  if (upstream !== "" && path !== upstream && !path.startsWith(`${upstream}/`)) return value
  return `${mount.client}${path.slice(upstream.length)}${url.search}${url.hash}` || "/"
}

/** Response headers that name a URL the client is sent to, rewritten as nginx's `proxy_redirect default`. */
const REDIRECTING = ["location", "content-location"] as const

/** The request id of `headers`, or a fresh one. */
export const requestIdOf = (headers: IncomingHttpHeaders): string => {
  const given = headers["x-request-id"]
  return typeof given === "string" && given.length > 0 && given.length <= 200 ? given : randomUUID()
}

/** The headers sent upstream for a request that came with `headers`. */
export const upstreamRequestHeaders = (
  headers: IncomingHttpHeaders,
  info: ForwardInfo,
): Record<string, string | string[]> => {
  const out: Record<string, string | string[]> = {}
  const named = connectionTokens(headers.connection)
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue
    if (name === "authorization" && !info.forwardAuth) continue
    if (
      name === "x-forwarded-for" ||
      name === "x-forwarded-proto" ||
      name === "x-forwarded-host" ||
      name === "x-forwarded-prefix"
    )
      continue
    const value = headers[name]
    if (name === "cookie" && value !== undefined) {
      // A service that got the dashboard's cookie could replay it as the signed-in user.
      const kept = withoutSessionCookies(Array.isArray(value) ? value.join("; ") : value)
      if (kept !== undefined) out.cookie = kept
      continue
    }
    if (value !== undefined) out[name] = value
  }
  const prior = headers["x-forwarded-for"]
  out["x-forwarded-for"] =
    prior === undefined
      ? info.clientAddress
      : `${Array.isArray(prior) ? prior.join(", ") : prior}, ${info.clientAddress}`
  out["x-forwarded-proto"] = info.proto
  if (headers.host !== undefined) out["x-forwarded-host"] = headers.host
  // Traefik's convention: the prefix the gateway took off, for a service to build its own links.
  if (info.prefix !== undefined && info.prefix !== "") out["x-forwarded-prefix"] = info.prefix
  out["x-request-id"] = info.requestId
  return out
}

/**
 * Answer headers that act on the whole origin, SAM's included: a service may not wipe the
 * dashboard's cookies and storage (Clear-Site-Data) nor widen a service worker's scope to all of
 * SAM's pages (Service-Worker-Allowed).
 */
const ORIGIN_WIDE = new Set(["clear-site-data", "service-worker-allowed"])

/**
 * The headers sent to the client for an upstream answer with `headers`: a Set-Cookie naming a SAM
 * session cookie is dropped (a service must not sign the browser in or out of SAM), so are the
 * origin-wide headers, and with `browserIsolation` the sandbox CSP is added to the service's own
 * policies (all of them apply). With `redirect`, a Location or Content-Location on the instance's
 * origin (the Host SAM sent it) is rewritten to the gateway's path for it, relative to the
 * client's origin: `http://127.0.0.1:41234/echo` becomes `/api/web/echo`.
 */
export const clientResponseHeaders = (
  headers: IncomingHttpHeaders,
  requestId: string,
  browserIsolation: boolean,
  redirect?: { readonly instance: string; readonly mount: Mount },
): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {}
  const named = connectionTokens(headers.connection)
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || ORIGIN_WIDE.has(name)) continue
    const value = headers[name]
    if (name === "set-cookie" && value !== undefined) {
      const kept = (Array.isArray(value) ? value : [value]).filter((v) => !setsSessionCookie(v))
      if (kept.length > 0) out["set-cookie"] = kept
      continue
    }
    if (value !== undefined) out[name] = value
  }
  if (redirect !== undefined)
    for (const name of REDIRECTING) {
      const value = out[name]
      if (typeof value !== "string") continue
      const origin = URL.parse(redirect.instance)?.origin
      if (origin !== undefined) out[name] = throughGateway(value, origin, redirect.mount)
    }
  if (browserIsolation) {
    // Node types this header as one string; several lines are several policies, each enforced.
    const policies = out as Record<string, OutgoingHttpHeader | undefined>
    const own = policies["content-security-policy"]
    policies["content-security-policy"] =
      own === undefined
        ? BROWSER_ISOLATION_CSP
        : [...(Array.isArray(own) ? own : [String(own)]), BROWSER_ISOLATION_CSP]
  }
  out["x-request-id"] = requestId
  return out
}

/** The client's address as the proxy saw it (IPv4-mapped IPv6 written as IPv4). */
export const clientAddressOf = (address: string | undefined): string => {
  if (address === undefined) return "unknown"
  return address.startsWith("::ffff:") ? address.slice(7) : address
}

/** The (first) value of cookie `name` in a Cookie header, if present. */
export const cookieValue = (header: string | undefined, name: string): string | undefined =>
  cookieValues(header, name)[0]
