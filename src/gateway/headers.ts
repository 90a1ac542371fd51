// Header rules of the proxy: hop-by-hop headers (RFC 9110 §7.6.1, and any named in Connection)
// never cross it; the request gains X-Forwarded-For/Proto/Host and an X-Request-Id (the client's
// when it sent one); Authorization is dropped unless the service asked for it. Pure.
import { randomUUID } from "node:crypto"
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http"

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

export interface ForwardInfo {
  readonly clientAddress: string
  readonly proto: "http" | "https"
  readonly requestId: string
  readonly forwardAuth: boolean
}

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
    if (name === "x-forwarded-for" || name === "x-forwarded-proto" || name === "x-forwarded-host") continue
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  const prior = headers["x-forwarded-for"]
  out["x-forwarded-for"] =
    prior === undefined
      ? info.clientAddress
      : `${Array.isArray(prior) ? prior.join(", ") : prior}, ${info.clientAddress}`
  out["x-forwarded-proto"] = info.proto
  if (headers.host !== undefined) out["x-forwarded-host"] = headers.host
  out["x-request-id"] = info.requestId
  return out
}

/** The headers sent to the client for an upstream answer with `headers`. */
export const clientResponseHeaders = (
  headers: IncomingHttpHeaders,
  requestId: string,
): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {}
  const named = connectionTokens(headers.connection)
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  out["x-request-id"] = requestId
  return out
}

/** The client's address as the proxy saw it (IPv4-mapped IPv6 written as IPv4). */
export const clientAddressOf = (address: string | undefined): string => {
  if (address === undefined) return "unknown"
  return address.startsWith("::ffff:") ? address.slice(7) : address
}

/** The value of cookie `name` in a Cookie header, if present. */
export const cookieValue = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined) return undefined
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
