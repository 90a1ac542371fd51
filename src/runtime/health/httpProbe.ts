// HTTP check: GET the endpoint on the instance's port (or a full URL); healthy when the status
// is the expected one, or any 2xx/3xx when none is configured. No keep-alive: a probe must not
// hold sockets open between checks.
import { request } from "node:http"
import { request as httpsRequest } from "node:https"
import type { ProbeFn } from "./probe.ts"

export const probeUrl = (endpoint: string | undefined, base: string | undefined): string | undefined => {
  const path = endpoint ?? "/"
  if (/^https?:\/\//.test(path)) return path
  if (!base) return undefined
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`
}

export const httpProbe: ProbeFn = (spec, target, signal) =>
  new Promise((resolve) => {
    const base =
      target.url ?? (target.port === undefined ? undefined : `http://${target.host}:${target.port}`)
    const url = probeUrl(spec.endpoint, spec.port === undefined ? base : `http://${target.host}:${spec.port}`)
    if (!url) {
      resolve({ ok: false, detail: "http check has no port or URL to probe" })
      return
    }
    const send = url.startsWith("https:") ? httpsRequest : request
    const req = send(url, { method: "GET", agent: false, timeout: spec.timeoutMs, signal }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      const ok =
        spec.expectedStatus === undefined ? status >= 200 && status < 400 : status === spec.expectedStatus
      resolve({ ok, detail: `GET ${url} -> ${status}` })
    })
    req.on("timeout", () => req.destroy(new Error(`timed out after ${spec.timeoutMs} ms`)))
    req.on("error", (error) => resolve({ ok: false, detail: `GET ${url}: ${error.message}` }))
    req.end()
  })
