// The request target as the front door (apiServer.ts) routes it. HTTP/1.1 lets a request line name
// an absolute URL (`GET http://127.0.0.1:7070/api/status HTTP/1.1`, RFC 9112 3.2.2: what a client
// sends a proxy), and node:http hands it on as it is. Before anything looks at the request, it is
// rewritten to origin form, its path and query exactly as sent, and its authority becomes the
// Host (the RFC: a server uses the target's authority, not the Host header). So the Host rule,
// the gateway's routing and dot-segment handling, the metrics path and the control API judge one
// request whichever form it came in; none of them sees a URL another of them would parse otherwise.
import type { IncomingMessage } from "node:http"

const absoluteForm = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is

/**
 * Rewrite an absolute-form `req` to origin form, in place (once: origin form stays as it is).
 * Why its target is refused (a 400), or undefined: another scheme than http(s), userinfo (RFC 9110
 * 4.2.4: to be treated as an error), no host, or no leading `/` at all.
 */
export const toOriginForm = (req: IncomingMessage): string | undefined => {
  const url = req.url ?? "/"
  if (url.startsWith("/")) return undefined
  // `OPTIONS *` asks about the server, not a resource: the router answers it (no route).
  if (url === "*" && req.method === "OPTIONS") return undefined
  const shown = JSON.stringify(url.slice(0, 200))
  const match = absoluteForm.exec(url)
  if (match === null) return `the request target ${shown} is neither a path (/api/...) nor an http URL`
  const [, scheme = "", authority = "", rest = ""] = match
  if (!/^https?$/i.test(scheme)) return `the request target ${shown} is not an http URL`
  if (authority.includes("@"))
    return `the request target ${shown} carries userinfo; send the credential in Authorization`
  if (authority === "") return `the request target ${shown} names no host`
  if (rest !== "" && !rest.startsWith("/") && !rest.startsWith("?"))
    return `the request target ${shown} is not a URL SAM can route`
  req.url = rest.startsWith("/") ? rest : `/${rest}`
  req.headers.host = authority
  return undefined
}
