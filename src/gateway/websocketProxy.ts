// WebSocket (and any HTTP/1.1 Upgrade) through the gateway: the upgrade request goes to one
// instance with undici's Pool.upgrade; on its 101 the client gets the 101 and the two sockets are
// piped both ways until either side closes or ends its half (EOF). The pair counts as one
// request in flight (drain waits).
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { PROBLEM_JSON, problemBody } from "../api/problemBody.ts"
import { nodeHttp } from "../runtime/os/nodeHttp.ts"
import { clientResponseHeaders } from "./headers.ts"
import type { Endpoint } from "./routingTable.ts"
import type { Upstream, Upstreams } from "./upstreams.ts"

/** Answer an upgrade request that cannot be proxied, on the raw socket, and close it. */
export const refuseUpgrade = (
  socket: Duplex,
  status: number,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): undefined => {
  if (socket.destroyed) return undefined
  const body = JSON.stringify(problemBody(status, detail))
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")
  socket.end(
    `HTTP/1.1 ${status} ${nodeHttp().STATUS_CODES[status] ?? "Error"}\r\ncontent-type: ${PROBLEM_JSON}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  )
  return undefined
}

export interface UpgradeRequest {
  readonly req: IncomingMessage
  readonly socket: Duplex
  readonly head: Buffer
  readonly endpoint: Endpoint
  readonly path: string
  readonly headers: Record<string, string | string[]>
  readonly requestId: string
  readonly connectMs: number
  readonly upstreams: Upstreams
  /** When the pair is closed (or the upgrade failed): once. */
  readonly done: (ok: boolean) => void
}

export const proxyUpgrade = (u: UpgradeRequest): void => {
  const { socket } = u
  const upstream: Upstream = u.upstreams.get(
    u.endpoint.url,
    u.endpoint.unit,
    u.endpoint.instance,
    u.connectMs,
  )
  u.upstreams.enter(upstream)
  let over = false
  const end = (ok: boolean) => {
    if (over) return
    over = true
    u.upstreams.leave(upstream)
    u.done(ok)
  }
  const controller = new AbortController()
  // Until the pair is piped, a client that goes away aborts the upgrade.
  const onEarlyClose = () => controller.abort()
  socket.on("error", () => socket.destroy())
  socket.once("close", onEarlyClose)
  upstream.pool
    .upgrade({
      path: u.path,
      method: u.req.method ?? "GET",
      headers: u.headers,
      protocol: typeof u.req.headers.upgrade === "string" ? u.req.headers.upgrade : "websocket",
      signal: controller.signal,
    })
    .then(
      ({ headers, socket: up }) => {
        socket.off("close", onEarlyClose)
        if (socket.destroyed) {
          up.destroy()
          end(true)
          return
        }
        const lines = [
          "HTTP/1.1 101 Switching Protocols",
          `upgrade: ${u.req.headers.upgrade ?? "websocket"}`,
          "connection: Upgrade",
        ]
        for (const [name, value] of Object.entries(clientResponseHeaders(headers, u.requestId, false)))
          for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`)
        socket.write(`${lines.join("\r\n")}\r\n\r\n`)
        if (u.head.length > 0) up.write(u.head)
        up.on("error", () => up.destroy())
        const close = () => {
          socket.destroy()
          up.destroy()
          end(true)
        }
        up.once("close", close)
        socket.once("close", close)
        // Either side's EOF ends the pair, as in nginx: the other side gets what came before it, then
        // both close. Node's upgraded sockets are half-open: a client's FIN alone would only end()
        // the upstream and leave the pair in flight for as long as the service keeps its side open.
        const closeOnceSent = (to: Duplex) => {
          if (to.writableFinished) close()
          else to.once("finish", close)
        }
        socket.once("end", () => closeOnceSent(up))
        up.once("end", () => closeOnceSent(socket))
        up.pipe(socket)
        socket.pipe(up)
      },
      (error: Error) => {
        socket.off("close", onEarlyClose)
        refuseUpgrade(socket, 502, `the upgrade to "${u.endpoint.unit}" failed: ${error.message}`, {
          "x-request-id": u.requestId,
        })
        end(false)
      },
    )
}
