// Thousands of random and malformed requests (methods, paths, queries, headers, tokens, bodies, and
// raw bytes that are not HTTP at all) against a running SAM: none may get a 5xx, every error is a
// problem, and SAM still serves and supervises afterwards. Seeded, so a failure can be replayed.
import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, startApi, tokens } from "./apiHarness.ts"

const SEED = Number(process.env.SAM_FUZZ_SEED ?? 20_240_611)
const REQUESTS = 3_000
const RAW_REQUESTS = 300
const CONCURRENCY = 16

/** mulberry32: small, seedable, good enough to pick test inputs. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const random = prng(SEED)
const int = (n: number) => Math.floor(random() * n)
const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
const chance = (p: number) => random() < p

const printable =
  " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
const text = (max: number) =>
  Array.from({ length: int(max) }, () => printable[int(printable.length)]).join("")
const unicode = () =>
  pick(["é", "日本", "🦀", "\u0000", "\u202e", "%", "%00", "%zz", "..", "../..", "\\", "?", "#"])

const ids = ["db", "web", "helper", "", "x".repeat(300), "DB", "db ", "%2e%2e", "..%2f", "null", "0", "-1"]
const segment = () => (chance(0.7) ? pick(ids) : chance(0.5) ? text(12) : unicode())

const paths = (): string => {
  const id = encodeURIComponent(segment())
  return pick([
    "/api/status",
    "/api/agents",
    "/api/services",
    "/api/events",
    "/api/plugins",
    "/api/openapi.json",
    "/api/config/reload",
    `/api/agents/${id}/status`,
    `/api/agents/${id}/${pick(["start", "stop", "restart", "suspend", "resume", "explode"])}`,
    `/api/services/${id}/${pick(["start", "stop", "restart", "health", "suspend"])}`,
    `/api/capabilities/${id}/invoke`,
    `/api/plugins/${id}/${text(6)}`,
    `/${text(20)}`,
    "/",
    "/api",
    `/api/${unicode()}`,
    `//api//status`,
  ])
}

const queries = (): string => {
  if (chance(0.5)) return ""
  const params = Array.from({ length: 1 + int(4) }, () => {
    const key = pick(["page", "pageSize", "status", "capability", "sort", text(5), ""])
    const value = pick([
      "1",
      "0",
      "-1",
      "1e9",
      "NaN",
      "2.5",
      "running",
      "ready",
      "",
      text(10),
      "9".repeat(40),
    ])
    return `${encodeURIComponent(key)}=${encodeURIComponent(value)}`
  })
  return `?${params.join(pick(["&", "&&", ";"]))}`
}

const jsonValue = (depth = 0): unknown => {
  switch (int(depth > 3 ? 5 : 8)) {
    case 0:
      return null
    case 1:
      return chance(0.5)
    case 2:
      return pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2])
    case 3:
      return text(20)
    case 4:
      return unicode()
    case 5:
      return Array.from({ length: int(4) }, () => jsonValue(depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: int(5) }, () => [
          pick(["input", "timeout_seconds", "graceful", "timeout", "force", "config", "__proto__", text(6)]),
          jsonValue(depth + 1),
        ]),
      )
  }
}

const bodies = (): string | undefined =>
  pick([
    undefined,
    "",
    JSON.stringify(jsonValue()),
    JSON.stringify({ input: jsonValue(), timeout_seconds: pick([0.05, -1, 0, "1", 5000]) }),
    JSON.stringify({ graceful: jsonValue(), timeout: jsonValue() }),
    "{",
    '{"input":',
    "[1,2,",
    "null",
    text(200),
    "x".repeat(5_000),
    JSON.stringify({ input: "y".repeat(3_000) }),
  ])

const headers = (body: string | undefined): Record<string, string> => {
  const h: Record<string, string> = {}
  const token = pick([...Object.values(tokens).map((t) => t.token), "", "wrong", text(30)])
  if (chance(0.85))
    h.authorization = pick([`Bearer ${token}`, `bearer ${token}`, token, `Basic ${token}`, "Bearer", ""])
  if (body !== undefined || chance(0.2))
    h["content-type"] = pick([
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      text(15),
      "",
    ])
  if (chance(0.3)) h.accept = pick(["text/event-stream", "application/json", "*/*", text(10)])
  if (chance(0.2)) h["last-event-id"] = pick(["0", "-1", "abc", "99999999999999999999", text(8)])
  if (chance(0.1)) h[`x-${text(5).replace(/[^a-z]/gi, "a") || "a"}`] = text(50)
  return h
}

let h: ApiHarness

beforeAll(async () => {
  h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })], {
    maxBodyBytes: 4_096,
    headersTimeoutMs: 2_000,
  })
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
})

interface Outcome {
  readonly request: string
  readonly status: number
  readonly problem: boolean
}

/** Real endpoints, so most requests get past routing and auth to validation and the handlers. */
const endpoints: ReadonlyArray<readonly [string, (id: string) => string]> = [
  ["GET", () => "/api/status"],
  ["GET", () => "/api/agents"],
  ["GET", () => "/api/services"],
  ["GET", (id) => `/api/agents/${id}/status`],
  ["GET", (id) => `/api/services/${id}/health`],
  ["POST", (id) => `/api/services/${id}/${pick(["start", "stop", "restart"])}`],
  ["POST", (id) => `/api/agents/${id}/${pick(["start", "stop", "restart", "suspend", "resume"])}`],
  ["POST", (id) => `/api/capabilities/${id}/invoke`],
  ["POST", () => "/api/config/reload"],
]

const request = (): {
  method: string
  path: string
  headers: Record<string, string>
  body: string | undefined
} => {
  if (chance(0.6)) {
    const [method, path] = pick(endpoints)
    const body = method === "POST" ? (chance(0.4) ? pick([undefined, "{}", "null"]) : bodies()) : undefined
    const auth: Record<string, string> = { authorization: `Bearer ${pick(Object.values(tokens)).token}` }
    if (body !== undefined && chance(0.7)) auth["content-type"] = "application/json"
    const id = encodeURIComponent(chance(0.5) ? "db" : segment())
    return { method, path: `${path(id)}${queries()}`, headers: { ...headers(body), ...auth }, body }
  }
  const method = pick(["GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE"])
  const body = method === "GET" || method === "HEAD" ? undefined : bodies()
  return { method, path: `${paths()}${queries()}`, headers: headers(body), body }
}

const send = async (): Promise<Outcome | undefined> => {
  const { method, path, headers, body } = request()
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(10_000) }
  if (body !== undefined) init.body = body
  let response: Response
  try {
    response = await fetch(`${h.url}${path}`, init)
  } catch (error) {
    // The client refused to build the request (invalid URL or header): nothing reached SAM.
    if (error instanceof TypeError && !(error.cause instanceof Error && "code" in error.cause))
      return undefined
    throw new Error(`${method} ${path} failed on the wire: ${String((error as Error).cause ?? error)}`)
  }
  const type = response.headers.get("content-type") ?? ""
  if (type.includes("text/event-stream")) await response.body?.cancel()
  else await response.arrayBuffer()
  return {
    request: `${method} ${path}`,
    status: response.status,
    problem: type.includes("application/problem+json"),
  }
}

const rawGarbage = (): string =>
  pick([
    `${text(10)}\r\n\r\n`,
    `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n${"X-Big: " + "a".repeat(20_000)}\r\n\r\n`,
    "GET /api/status HTTP/9.9\r\n\r\n",
    `POST /api/services/db/stop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{`,
    `POST /api/services/db/stop HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${text(5)}\r\n`,
    `GET ${text(30)} HTTP/1.1\r\n\r\n`,
    `\u0000\u0001\u0002${text(40)}`,
    `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tokens.watcher.token}\r\n\r\n`,
  ])

const rawSend = (bytes: string): Promise<string> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(h.url)
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(bytes))
    let answer = ""
    socket.setTimeout(5_000, () => socket.destroy())
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1")
    })
    socket.on("error", () => resolve(answer))
    socket.on("close", () => resolve(answer))
  })

describe("fuzzing the control API", () => {
  it(`${REQUESTS} random requests get no 5xx, errors are problems, and SAM keeps serving`, {
    timeout: 60_000,
  }, async () => {
    const outcomes: Outcome[] = []
    let next = 0
    const worker = async () => {
      while (next < REQUESTS) {
        next++
        const outcome = await send()
        if (outcome) outcomes.push(outcome)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))

    // A valid admin reload without a plugin host is "not available here" (501), not a failure to answer.
    const serverErrors = outcomes.filter(
      (o) => o.status >= 500 && !(o.status === 501 && o.request.includes("/api/config/reload")),
    )
    expect(serverErrors, `seed ${SEED}`).toEqual([])
    const notProblems = outcomes.filter(
      (o) => o.status >= 400 && !o.problem && !o.request.startsWith("HEAD "),
    )
    expect(notProblems, `seed ${SEED}`).toEqual([])
    expect(outcomes.length).toBeGreaterThan(REQUESTS * 0.9)
    const statuses = new Set(outcomes.map((o) => o.status))
    for (const status of [200, 400, 401, 403, 404, 413, 415]) expect(statuses).toContain(status)

    const answers = await Promise.all(Array.from({ length: RAW_REQUESTS }, () => rawSend(rawGarbage())))
    expect(
      answers.filter((a) => /^HTTP\/1\.1 5/.test(a)),
      `seed ${SEED}`,
    ).toEqual([])

    const status = await h.fetch("/api/status", { as: "watcher" })
    expect(status.status).toBe(200)
    const db = h.sam.services.status("db")
    expect(["running", "starting", "stopped", "stopping"]).toContain(db.state)
  })
})
