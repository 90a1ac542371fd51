// HTTP check: GET the endpoint on the instance's port (or a full URL); healthy when the status
// is the expected one, or any 2xx/3xx when none is configured. Plain http is written by hand on a
// bare socket (at 1,000 checks a second node:http's request and response objects cost more than
// the check). Checks more often than every 5 s keep their connection between checks while the
// answers are framed by Content-Length, but open a fresh one at least every 10 s (a kept one could
// pass while the service no longer accepts connections); the connection goes when the probe loop
// does (ProbeSession). https uses node:https, a fresh connection per check.
import { connect, type Socket } from "node:net"
import { nodeHttps } from "../os/nodeHttp.ts"
import type { ProbeFn, ProbeResult, ProbeSession } from "./probe.ts"

export const probeUrl = (endpoint: string | undefined, base: string | undefined): string | undefined => {
  const path = endpoint ?? "/"
  if (/^https?:\/\//.test(path)) return path
  if (!base) return undefined
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`
}

const statusLine = /^HTTP\/\d(?:\.\d)? (\d{3})/

/** Below Node's default server keepAliveTimeout (5 s): an idle connection is still open at the next check. */
const keepBelowIntervalMs = 5_000
/** A check on a fresh connection at least this often. */
const freshEveryMs = 10_000
/** Bodies up to this are read to keep the connection; a bigger one closes it. */
const maxKeptBody = 64 * 1024

interface PlainTarget {
  readonly host: string
  readonly port: number
  readonly path: string
  readonly hostHeader: string
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
      path: `${parsed.pathname}${parsed.search}`,
      hostHeader: parsed.host,
    }
  } catch {
    known = new Error("invalid URL")
  }
  if (targets.size >= 10_000) targets.clear()
  targets.set(url, known)
  return known
}

const requestText = (target: PlainTarget, keepAlive: boolean) =>
  `GET ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\nUser-Agent: sam-health-check\r\n` +
  `Accept: */*\r\nConnection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`

/** A connection kept between the checks of one probe loop. */
interface Kept {
  readonly url: string
  readonly socket: Socket
  readonly openedAt: number
  /** False once it closed, failed or sent bytes nobody asked for while idle. */
  usable: boolean
  readonly idle: () => void
}

interface Exchange {
  readonly outcome: number | Error
  /** The connection may carry the next check. */
  readonly keep: boolean
  /** The connection failed or closed before any byte of an answer (a reused one is then retried fresh). */
  readonly dropped: boolean
}

/** The framing of a response head: how much body follows, and whether the connection may be kept. */
const framing = (head: string, status: number): { readonly body: number } | undefined => {
  let length: number | undefined
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":")
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase()
    if (name === "connection" && value.includes("close")) return undefined
    if (name === "transfer-encoding") return undefined
    if (name === "content-length") length = Number(value)
  }
  if (status === 204 || status === 304) return { body: 0 }
  if (status < 200 || length === undefined || !Number.isSafeInteger(length) || length > maxKeptBody)
    return undefined
  return { body: length }
}

/** One request and its answer on `socket` (connected now when `fresh`). */
const exchange = (
  target: PlainTarget,
  socket: Socket,
  fresh: boolean,
  keepAlive: boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Exchange> =>
  new Promise((resolve) => {
    let settled = false
    let head = ""
    let status: number | undefined
    let bodyLeft = -1
    const done = (outcome: number | Error, keep: boolean, dropped = false) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener("abort", onAbort)
      socket.off("connect", onConnect)
      socket.off("data", onData)
      socket.off("error", onError)
      socket.off("close", onClose)
      if (!keep) socket.destroy()
      resolve({ outcome, keep, dropped: dropped && head === "" })
    }
    const onAbort = () => done(new Error("aborted"), false)
    const onConnect = () => socket.write(requestText(target, keepAlive))
    const onError = (error: Error) => done(error, false, true)
    const onClose = () =>
      done(status ?? new Error("the connection closed before an HTTP status line"), false, true)
    const onData = (chunk: Buffer) => {
      if (bodyLeft >= 0) {
        bodyLeft -= chunk.length
        // More than the body: bytes nobody asked for; the answer stands, the connection does not.
        if (bodyLeft <= 0) done(status as number, bodyLeft === 0)
        return
      }
      head += chunk.toString("latin1")
      if (status === undefined) {
        const end = head.indexOf("\r\n")
        if (end === -1) {
          if (head.length > 8192) done(new Error("no HTTP status line in the first 8 KiB"), false)
          return
        }
        const match = statusLine.exec(head.slice(0, end))
        if (!match) {
          done(new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, Math.min(end, 80)))}`), false)
          return
        }
        status = Number(match[1])
        if (!keepAlive) {
          done(status, false)
          return
        }
      }
      const headEnd = head.indexOf("\r\n\r\n")
      if (headEnd === -1) {
        if (head.length > 8192) done(status, false)
        return
      }
      const frame = framing(head.slice(0, headEnd), status)
      if (!frame) {
        done(status, false)
        return
      }
      bodyLeft = frame.body - (head.length - headEnd - 4)
      if (bodyLeft <= 0) done(status, bodyLeft === 0)
    }
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms`), false), timeoutMs)
    signal.addEventListener("abort", onAbort)
    socket.on("data", onData)
    socket.on("error", onError)
    socket.on("close", onClose)
    if (fresh) socket.on("connect", onConnect)
    else onConnect()
  })

const dropKept = (session: ProbeSession) => {
  const kept = session.kept as Kept | undefined
  session.kept = undefined
  if (!kept) return
  kept.socket.off("data", kept.idle)
  kept.socket.off("close", kept.idle)
  kept.socket.off("error", kept.idle)
  kept.socket.destroy()
}

/** Park `socket` in the session until the next check: anything it does meanwhile makes it unusable. */
const keep = (session: ProbeSession, url: string, socket: Socket, openedAt: number) => {
  const kept: Kept = {
    url,
    socket,
    openedAt,
    usable: true,
    idle: () => {
      kept.usable = false
    },
  }
  socket.on("data", kept.idle)
  socket.on("close", kept.idle)
  socket.on("error", kept.idle)
  session.kept = kept
  session.release = () => dropKept(session)
}

/** GET `url` (http:); settles with the status, or the failure. */
const plainGet = async (
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
  session: ProbeSession | undefined,
  intervalMs: number,
): Promise<number | Error> => {
  const target = plainTarget(url)
  if (target instanceof Error) return target
  const keepAlive = session !== undefined && intervalMs < keepBelowIntervalMs
  if (session) {
    const kept = session.kept as Kept | undefined
    if (kept && (kept.url !== url || !kept.usable || Date.now() - kept.openedAt >= freshEveryMs))
      dropKept(session)
    const reusable = session.kept as Kept | undefined
    if (reusable && keepAlive) {
      session.kept = undefined
      reusable.socket.off("data", reusable.idle)
      reusable.socket.off("close", reusable.idle)
      reusable.socket.off("error", reusable.idle)
      const reused = await exchange(target, reusable.socket, false, true, timeoutMs, signal)
      if (reused.keep) keep(session, url, reusable.socket, reusable.openedAt)
      // The server closed the idle connection just as it was reused: that says nothing of its health.
      if (!reused.dropped || signal.aborted) return reused.outcome
    } else if (reusable) dropKept(session)
  }
  const socket = connect({ host: target.host, port: target.port })
  const openedAt = Date.now()
  const fresh = await exchange(target, socket, true, keepAlive, timeoutMs, signal)
  if (fresh.keep && session) keep(session, url, socket, openedAt)
  return fresh.outcome
}

const tlsGet = (url: string, timeoutMs: number, signal: AbortSignal): Promise<number | Error> =>
  new Promise((resolve) => {
    const req = nodeHttps().request(
      url,
      { method: "GET", agent: false, timeout: timeoutMs, signal },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)))
    req.on("error", (error) => resolve(error))
    req.end()
  })

export const httpProbe: ProbeFn = async (spec, target, signal, session): Promise<ProbeResult> => {
  const base = target.url ?? (target.port === undefined ? undefined : `http://${target.host}:${target.port}`)
  const url = probeUrl(spec.endpoint, spec.port === undefined ? base : `http://${target.host}:${spec.port}`)
  if (!url) return { ok: false, detail: "http check has no port or URL to probe" }
  const outcome = url.startsWith("https:")
    ? await tlsGet(url, spec.timeoutMs, signal)
    : await plainGet(url, spec.timeoutMs, signal, session, spec.intervalMs)
  if (outcome instanceof Error) return { ok: false, detail: `GET ${url}: ${outcome.message}` }
  const ok =
    spec.expectedStatus === undefined ? outcome >= 200 && outcome < 400 : outcome === spec.expectedStatus
  return { ok, detail: `GET ${url} -> ${outcome}` }
}
