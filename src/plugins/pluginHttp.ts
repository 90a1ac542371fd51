// The plugin part of the control API as a plain node:http router, mounted by the API server:
// `GET /api/plugins`, `GET /api/plugins/<name>`, `POST /api/config/reload` and every plugin's
// own routes under `/api/plugins/<name>/...`. A route runs on the plugin version that was live
// when the request arrived, even if a reload swaps versions before it answers.
import type { IncomingMessage, ServerResponse } from "node:http"
import { suggestionSuffix } from "../config/suggest.ts"
import { describe } from "./errors.ts"
import type { PluginInstance } from "./pluginInstance.ts"
import { isReply } from "./reply.ts"
import { matchRoute } from "./routeTable.ts"
import type { PluginStatus } from "./types.ts"

/** What the router needs from the plugin host. */
export interface PluginHttpBackend {
  list(): ReadonlyArray<PluginStatus>
  liveInstance(name: string): PluginInstance | undefined
  /** Runs a config reload; undefined when SAM runs without a config file. */
  readonly reloadConfig: (() => Promise<{ readonly ok: boolean }>) | undefined
}

const maxBodyBytes = 1024 * 1024

const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  if (res.headersSent || res.writableEnded) return
  if (body === undefined) {
    res.writeHead(status, headers).end()
    return
  }
  const isText = typeof body === "string" && headers["content-type"] !== undefined
  const payload = isText ? body : JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(payload)
}

const readBody = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBodyBytes) {
        reject(Object.assign(new Error(`request body is larger than ${maxBodyBytes} bytes`), { status: 413 }))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on("error", reject)
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      if (text === "") return resolve(undefined)
      if (!(req.headers["content-type"] ?? "").includes("json")) return resolve(text)
      try {
        resolve(JSON.parse(text))
      } catch (error) {
        reject(
          Object.assign(new Error(`request body is not valid JSON: ${describe(error)}`), { status: 400 }),
        )
      }
    })
  })

const servePluginRoute = async (
  instance: PluginInstance,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> => {
  const match = matchRoute(instance.routes, req.method ?? "GET", path)
  if (match._tag === "NotFound") {
    const known = instance.routes.map((r) => `${r.method} ${r.path}`)
    return send(res, 404, {
      error: `plugin "${instance.name}" has no route ${req.method} ${path}${known.length ? `; it serves ${known.join(", ")}` : ""}`,
    })
  }
  if (match._tag === "MethodNotAllowed")
    return send(
      res,
      405,
      { error: `${req.method} is not allowed on ${path}` },
      { allow: match.allowed.join(", ") },
    )
  let body: unknown
  try {
    body = await readBody(req)
  } catch (error) {
    return send(res, (error as { status?: number }).status ?? 400, { error: describe(error) })
  }
  try {
    const result = await match.route.handler({
      method: req.method ?? "GET",
      path,
      params: match.params,
      query,
      headers: req.headers,
      body,
      res,
    })
    if (isReply(result)) send(res, result.status, result.body, { ...result.headers })
    else if (result === undefined) send(res, 204, undefined)
    else send(res, 200, result)
  } catch (error) {
    send(res, 500, {
      error: `plugin "${instance.name}" failed to handle ${req.method} ${path}: ${describe(error)}`,
    })
  }
}

/** Serve the request if it is a plugin or config-reload route; true when it was taken. */
export const handlePluginHttp = (
  backend: PluginHttpBackend,
  req: IncomingMessage,
  res: ServerResponse,
): boolean => {
  const url = new URL(req.url ?? "/", "http://sam.local")
  const path = url.pathname
  const method = req.method ?? "GET"

  if (path === "/api/config/reload") {
    if (method !== "POST") {
      send(res, 405, { error: "use POST /api/config/reload" }, { allow: "POST" })
      return true
    }
    const reload = backend.reloadConfig
    if (!reload) {
      send(res, 501, { error: "config reload is not available: SAM was started without a config file" })
      return true
    }
    reload().then(
      (result) => send(res, result.ok ? 200 : 422, result),
      (error: unknown) => send(res, 500, { ok: false, error: describe(error) }),
    )
    return true
  }

  if (path !== "/api/plugins" && !path.startsWith("/api/plugins/")) return false
  const rest = path.slice("/api/plugins".length)
  if (rest === "" || rest === "/") {
    if (method === "GET" || method === "HEAD") send(res, 200, { plugins: backend.list() })
    else send(res, 405, { error: `${method} is not allowed on /api/plugins` }, { allow: "GET" })
    return true
  }
  const slash = rest.indexOf("/", 1)
  const name = decodeURIComponent(slash < 0 ? rest.slice(1) : rest.slice(1, slash))
  const status = backend.list().find((p) => p.name === name)
  if (!status) {
    const names = backend.list().map((p) => p.name)
    send(res, 404, { error: `no plugin "${name}"${suggestionSuffix(name, names)}` })
    return true
  }
  if (slash < 0) {
    send(res, 200, status)
    return true
  }
  const instance = backend.liveInstance(name)
  if (!instance) {
    send(res, 503, {
      error: `plugin "${name}" is ${status.status}${status.error ? `: ${status.error}` : ""}`,
    })
    return true
  }
  // Counted in flight from arrival, so a swap during the body read still waits for this request.
  instance
    .track(() => servePluginRoute(instance, req, res, rest.slice(slash), url.searchParams))
    .catch((error: unknown) => send(res, 500, { error: describe(error) }))
  return true
}
