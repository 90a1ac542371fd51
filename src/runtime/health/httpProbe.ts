// HTTP check: GET the endpoint on the instance's port (or a full URL); healthy when the status
// is the expected one, or any 2xx/3xx when none is configured. No keep-alive: a probe must not
// hold sockets open between checks. Plain http is one socket, one request written by hand and
// the status line read back (the connection is dropped then): at 1,000 checks a second the
// http client's request and response objects cost more than the connection. https uses node:https.
import { request as httpsRequest } from "node:https"
import { connect } from "node:net"
import type { ProbeFn, ProbeResult } from "./probe.ts"

export const probeUrl = (endpoint: string | undefined, base: string | undefined): string | undefined => {
  const path = endpoint ?? "/"
  if (/^https?:\/\//.test(path)) return path
  if (!base) return undefined
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`
}

const statusLine = /^HTTP\/\d(?:\.\d)? (\d{3})/

interface PlainTarget {
  readonly host: string
  readonly port: number
  /** The request, written once per check. */
  readonly request: string
}

/** Parsed targets by URL: a unit's checks hit the same URL every interval (bounded: cleared when full). */
const targets = new Map<string, PlainTarget | Error>()

const plainTarget = (url: string): PlainTarget | Error => {
  let known = targets.get(url)
  if (known) return known
  try {
    const parsed = new URL(url)
    known = {
      host: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: Number(parsed.port) || 80,
      request:
        `GET ${parsed.pathname}${parsed.search} HTTP/1.1\r\nHost: ${parsed.host}\r\n` +
        "User-Agent: sam-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    }
  } catch {
    known = new Error("invalid URL")
  }
  if (targets.size >= 10_000) targets.clear()
  targets.set(url, known)
  return known
}

/** GET `url` (http:) over a fresh connection; settles with the status, or the failure. */
const plainGet = (url: string, timeoutMs: number, signal: AbortSignal): Promise<number | Error> =>
  new Promise((resolve) => {
    const target = plainTarget(url)
    if (target instanceof Error) {
      resolve(target)
      return
    }
    let settled = false
    let head = ""
    const socket = connect({ host: target.host, port: target.port })
    const done = (outcome: number | Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener("abort", onAbort)
      socket.destroy()
      resolve(outcome)
    }
    const onAbort = () => done(new Error("aborted"))
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
    signal.addEventListener("abort", onAbort)
    socket.on("connect", () => socket.write(target.request))
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1")
      const end = head.indexOf("\r\n")
      if (end === -1) {
        if (head.length > 8192) done(new Error("no HTTP status line in the first 8 KiB"))
        return
      }
      const match = statusLine.exec(head.slice(0, end))
      done(
        match
          ? Number(match[1])
          : new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, Math.min(end, 80)))}`),
      )
    })
    socket.on("error", done)
    socket.on("close", () => done(new Error("the connection closed before an HTTP status line")))
  })

const tlsGet = (url: string, timeoutMs: number, signal: AbortSignal): Promise<number | Error> =>
  new Promise((resolve) => {
    const req = httpsRequest(url, { method: "GET", agent: false, timeout: timeoutMs, signal }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)))
    req.on("error", (error) => resolve(error))
    req.end()
  })

export const httpProbe: ProbeFn = async (spec, target, signal): Promise<ProbeResult> => {
  const base = target.url ?? (target.port === undefined ? undefined : `http://${target.host}:${target.port}`)
  const url = probeUrl(spec.endpoint, spec.port === undefined ? base : `http://${target.host}:${spec.port}`)
  if (!url) return { ok: false, detail: "http check has no port or URL to probe" }
  const outcome = await (url.startsWith("https:") ? tlsGet : plainGet)(url, spec.timeoutMs, signal)
  if (outcome instanceof Error) return { ok: false, detail: `GET ${url}: ${outcome.message}` }
  const ok =
    spec.expectedStatus === undefined ? outcome >= 200 && outcome < 400 : outcome === spec.expectedStatus
  return { ok, detail: `GET ${url} -> ${outcome}` }
}
