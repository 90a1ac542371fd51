// DNS rebinding protection at the API server's front door (apiServer.ts): a server bound to a
// loopback address answers only requests addressed to a loopback name, for every path (control
// API, dashboard, gateway). A page of any website whose name an attacker re-resolves to 127.0.0.1
// would otherwise be same-origin with its own name and drive SAM's services through the browser.
import { isLoopbackHost } from "./auth.ts"

/** The name part of a Host header value: `[::1]:7070` → `[::1]`, `localhost:7070` → `localhost`. */
export const hostName = (header: string): string => {
  const value = header.trim().toLowerCase()
  if (value.startsWith("[")) {
    const end = value.indexOf("]")
    return end < 0 ? value : value.slice(0, end + 1)
  }
  const colon = value.indexOf(":")
  return colon < 0 ? value : value.slice(0, colon)
}

/** An IPv6 address as a URL or Host header writes it: `::1` → `[::1]`. */
export const bracketed = (host: string): string =>
  host.includes(":") && !host.startsWith("[") ? `[${host}]` : host

/**
 * Why a request with Host `header` is refused by a server bound to `boundHost`, or undefined.
 * Bound to loopback: the Host must name loopback (127.0.0.0/8, localhost, [::1]) or be `boundHost`
 * itself, with any port or none. Bound elsewhere, every Host is accepted: such a SAM needs
 * configured tokens, and its gateway defaults to `auth: token` (docs/SECURITY.md). A request
 * without Host (HTTP/1.0; browsers always send one) is accepted. The bound host is looked at once,
 * not per request (the check is on every request's path, the gateway's included).
 */
export const hostGuard = (boundHost: string): ((header: string | undefined) => string | undefined) => {
  if (!isLoopbackHost(boundHost)) return () => undefined
  const own = bracketed(boundHost.toLowerCase())
  return (header) => {
    if (header === undefined) return undefined
    const name = hostName(header)
    if (isLoopbackHost(name) || name === own) return undefined
    return (
      `this SAM listens on loopback (${boundHost}) and answers only requests addressed to a loopback name ` +
      `(127.0.0.1, localhost or [::1], any port), not Host ${JSON.stringify(header.slice(0, 200))}: ` +
      "a page of another site whose name resolves to this machine (DNS rebinding) must not reach SAM or its services. " +
      "Use http://127.0.0.1:<port>/"
    )
  }
}

/** hostGuard's answer for one request (tests, and callers that check once). */
export const hostRefusal = (header: string | undefined, boundHost: string): string | undefined =>
  hostGuard(boundHost)(header)
