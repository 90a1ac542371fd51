import { get, type IncomingHttpHeaders, request } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import {
  externalService,
  type GatewayHarness,
  type LocalUpstream,
  localUpstream,
  startGateway,
  upstream,
} from "../support/gateway.ts"

let h: GatewayHarness | undefined
let local: LocalUpstream | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  await local?.close()
  local = undefined
  expect(left ?? []).toEqual([])
})

const json = async (response: Response) => (await response.json()) as Record<string, unknown>

/** A GET with exactly `headers` (no client-side cache headers), its status, headers and body. */
const conditionalGet = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    get(url, { headers }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    }).on("error", reject)
  })

describe("rate limits", () => {
  it("past the burst a client gets 429 with Retry-After, RateLimit-Policy and RateLimit", async () => {
    h = await startGateway([
      upstream("api", { gateway: { rateLimit: { requestsPerSecond: 1, burst: 3, key: "ip" } } }),
    ])
    await h.routable("api", 1)
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await fetch(`${h.url}/api/api/whoami`))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(answers[0]!.headers.get("ratelimit-policy")).toBe('"api";q=3;w=3')
    expect(answers[0]!.headers.get("ratelimit")).toMatch(/^"api";r=2;t=\d$/)
    const refused = answers[3]!
    expect(refused.headers.get("retry-after")).toBe("1")
    expect(refused.headers.get("ratelimit")).toMatch(/^"api";r=0;t=3$/)
    expect((await json(refused)).detail).toContain("gateway.rate_limit")
    expect(h.gateway.stats().services.api?.rateLimited).toBe(1)
  })

  it("key: token gives each credential its own bucket", async () => {
    h = await startGateway([
      upstream("api", { gateway: { rateLimit: { requestsPerSecond: 1, burst: 1, key: "token" } } }),
    ])
    await h.routable("api", 1)
    const as = (token: string) =>
      fetch(`${h!.url}/api/api/whoami`, { headers: { authorization: `Bearer ${token}` } })
    expect((await as("alice")).status).toBe(200)
    expect((await as("alice")).status).toBe(429)
    expect((await as("bob")).status).toBe(200)
  })
})

describe("the response cache", () => {
  it("serves a fresh GET from the cache (X-Cache hit, Age), never an event stream, and bypasses no-cache", async () => {
    h = await startGateway([upstream("api", { gateway: { cache: { enabled: true } } })])
    await h.routable("api", 1)
    const first = await fetch(`${h.url}/api/api/cached?max_age=60`)
    expect(first.headers.get("x-cache")).toBe("miss")
    expect((await json(first)).count).toBe(1)
    const second = await fetch(`${h.url}/api/api/cached?max_age=60`)
    expect(second.headers.get("x-cache")).toBe("hit")
    expect(second.headers.get("age")).toBe("0")
    expect((await json(second)).count).toBe(1)
    const head = await fetch(`${h.url}/api/api/cached?max_age=60`, { method: "HEAD" })
    expect(head.headers.get("x-cache")).toBe("hit")
    const bypass = await fetch(`${h.url}/api/api/cached?max_age=60`, {
      headers: { "cache-control": "no-cache" },
    })
    expect(bypass.headers.get("x-cache")).toBeNull()
    expect((await json(bypass)).count).toBe(2)
    // An event stream is never stored, whatever its Cache-Control says.
    for (let i = 0; i < 2; i++) {
      const sse = await fetch(`${h.url}/api/api/sse?n=1`)
      expect(sse.headers.get("x-cache")).toBe("miss")
      await sse.text()
    }
    expect(h.gateway.stats().services.api?.cache).toEqual({ hits: 2, misses: 3 })
  })

  it("answers a hit with 304 when the client holds its validator (If-None-Match, else If-Modified-Since)", async () => {
    h = await startGateway([upstream("api", { gateway: { cache: { enabled: true } } })])
    await h.routable("api", 1)
    const url = `${h.url}/api/api/cached?max_age=60`
    const first = await fetch(url)
    expect(first.headers.get("etag")).toBe('"cached-1"')
    await first.text()
    // node:http, as a browser revalidating its own copy sends it: fetch() adds Cache-Control:
    // no-cache to a conditional request, which goes past any cache.
    const revalidated = await conditionalGet(url, { "if-none-match": 'W/"other", W/"cached-1"' })
    expect(revalidated.status).toBe(304)
    expect(revalidated.headers["x-cache"]).toBe("hit")
    expect(revalidated.headers.etag).toBe('"cached-1"')
    expect(revalidated.headers["cache-control"]).toBe("max-age=60")
    expect(revalidated.headers.age).toMatch(/^\d+$/)
    expect(revalidated.headers["content-type"]).toBeUndefined()
    expect(revalidated.body).toBe("")
    // Another tag: the whole answer; If-None-Match wins over If-Modified-Since.
    const changed = await conditionalGet(url, {
      "if-none-match": '"cached-0"',
      "if-modified-since": "Wed, 02 Dec 2026 10:00:00 GMT",
    })
    expect(changed.status).toBe(200)
    expect(JSON.parse(changed.body).count).toBe(1)
    const since = (date: string) => conditionalGet(url, { "if-modified-since": date })
    expect((await since("Wed, 02 Dec 2026 10:00:00 GMT")).status).toBe(304)
    expect((await since("Mon, 30 Nov 2026 10:00:00 GMT")).status).toBe(200)
    expect((await conditionalGet(url, { "if-none-match": "*" })).status).toBe(304)
    // None of it reached the service: one request, the first.
    expect(h.gateway.stats().services.api?.cache).toEqual({ hits: 5, misses: 1 })
  })

  it("a miss waits for the same URL's fetch in flight at most 5 s (nginx's cache lock), then goes to the service itself", async () => {
    // The first GET is held by the service until the test lets it go; the second arrives after it.
    const arrived: string[] = []
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    local = await localUpstream((req, res) => {
      arrived.push(req.headers["x-n"] as string)
      if (req.headers["x-n"] === "1") void released.then(() => res.end("first"))
      else res.end("second")
    })
    h = await startGateway(externalService("slow", local.origin, { cache: { enabled: true } }))
    await h.routable("slow", 1)
    const first = fetch(`${h.url}/api/slow/page`, { headers: { "x-n": "1" } })
    while (arrived.length === 0) await new Promise((r) => setTimeout(r, 10))
    const began = Date.now()
    const second = await fetch(`${h.url}/api/slow/page`, { headers: { "x-n": "2" } })
    expect(await second.text()).toBe("second")
    expect(arrived).toEqual(["1", "2"])
    expect(Date.now() - began).toBeGreaterThanOrEqual(4_900) // it waited its lock first
    release()
    expect(await (await first).text()).toBe("first")
  })

  it("an unsafe request that succeeds drops the stored answer of its URL and of its Location and Content-Location", async () => {
    // /doc* answers GETs cacheably with a version that each change bumps; a change answered
    // with an error (x-fail) changes nothing; POST /docs names /doc* it made in its headers.
    let version = 0
    local = await localUpstream((req, res) => {
      const url = new URL(req.url ?? "/", "http://x")
      req.resume()
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60" })
        res.end(`${url.pathname} v${version}`)
        return
      }
      if (req.headers["x-fail"] !== undefined) {
        res.writeHead(409).end()
        return
      }
      version++
      const named = url.searchParams.get("named")
      res.writeHead(url.pathname === "/docs" ? 201 : 204, {
        ...(url.searchParams.has("location") ? { location: String(url.searchParams.get("location")) } : {}),
        ...(named ? { "content-location": named.replace("ORIGIN", local!.origin) } : {}),
      })
      res.end()
    })
    h = await startGateway(externalService("docs", local.origin, { cache: { enabled: true } }))
    await h.routable("docs", 1)
    const read = async (path: string) => {
      const response = await fetch(`${h!.url}/api/docs${path}`)
      return `${response.headers.get("x-cache")} ${await response.text()}`
    }
    const change = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${h!.url}/api/docs${path}`, { method, headers })
      await response.arrayBuffer()
      return response.status
    }
    expect(await read("/doc")).toBe("miss /doc v0")
    expect(await read("/doc")).toBe("hit /doc v0")
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      expect(await change(method, "/doc")).toBe(204)
      expect(await read("/doc")).toMatch(/^miss /)
      expect(await read("/doc")).toMatch(/^hit /)
    }
    // An error changed nothing: the stored answer stays.
    expect(await change("POST", "/doc", { "x-fail": "1" })).toBe(409)
    expect(await read("/doc")).toBe("hit /doc v4")
    // What the answer names on the same instance goes too: a Location, a Content-Location.
    expect(await read("/doc/a")).toBe("miss /doc/a v4")
    expect(await read("/doc/b")).toBe("miss /doc/b v4")
    expect(await change("POST", "/docs?location=/doc/a")).toBe(201)
    expect(await read("/doc/a")).toBe("miss /doc/a v5")
    expect(await change("POST", "/docs?named=ORIGIN/doc/b")).toBe(201)
    expect(await read("/doc/b")).toBe("miss /doc/b v6")
    // Another origin's is no URL of this service.
    expect(await read("/doc/c")).toBe("miss /doc/c v6")
    expect(await change("POST", "/docs?location=http://elsewhere.example/doc/c")).toBe(201)
    expect(await read("/doc/c")).toBe("hit /doc/c v6")
  })

  it("concurrent misses for one URL make one upstream request (coalescing)", async () => {
    h = await startGateway([upstream("api", { gateway: { cache: { enabled: true } } })])
    await h.routable("api", 1)
    const bodies = await Promise.all(
      Array.from({ length: 10 }, async () => json(await fetch(`${h!.url}/api/api/cached?max_age=30`))),
    )
    expect(bodies.map((b) => b.count)).toEqual(Array(10).fill(1))
  })
})

describe("auth", () => {
  it("auth token: a control API token or the caller's SAM_GATEWAY_TOKEN passes; Authorization is not forwarded", async () => {
    h = await startGateway([upstream("api", { gateway: { auth: "token" } })], {
      tokens: { ops: { token: "ops-secret-123456789", role: "operator" } },
    })
    await h.routable("api", 1)
    const none = await fetch(`${h.url}/api/api/echo`)
    expect(none.status).toBe(401)
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="sam"')
    expect(
      (await fetch(`${h.url}/api/api/echo`, { headers: { authorization: "Bearer wrong" } })).status,
    ).toBe(401)
    const ok = await fetch(`${h.url}/api/api/echo`, {
      headers: { authorization: "Bearer ops-secret-123456789" },
    })
    expect(ok.status).toBe(200)
    expect(((await json(ok)).headers as Record<string, string>).authorization).toBeUndefined()
  })

  it("its 401s and 403s are tallied in the audit log per source, service and status, as the API's 401s are", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const { join } = await import("node:path")
    const { AuditLog } = await import("../../src/audit/auditLog.ts")
    const dir = mkdtempSync(join(tmpdir(), "sam-gw-audit-"))
    const audit = await AuditLog.open(join(dir, "audit.log"))
    try {
      h = await startGateway([upstream("api", { gateway: { auth: "token" } })], {
        tokens: { ops: { token: "ops-secret-123456789", role: "operator" } },
        audit,
      })
      await h.routable("api", 1)
      for (let i = 0; i < 30; i++) {
        const refused = await fetch(
          `${h.url}/api/api/echo`,
          i % 2 === 0 ? {} : { headers: { authorization: "Bearer wrong" } },
        )
        expect(refused.status).toBe(401)
        await refused.body?.cancel()
      }
      await audit.close()
      const entries = readFileSync(audit.file, "utf8")
        .trimEnd()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as {
              action: string
              target: string
              params?: Record<string, unknown>
              detail?: string
            },
        )
        .filter((e) => e.action === "gateway.refused")
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({
        target: "127.0.0.1",
        params: { count: 30, service: "api", status: 401 },
        detail: "30 requests to /api/api/ refused (401: without a credential it accepts)",
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("forward_auth: true passes Authorization on", async () => {
    h = await startGateway([upstream("api", { gateway: { forwardAuth: true } })])
    await h.routable("api", 1)
    const ok = await fetch(`${h.url}/api/api/echo`, { headers: { authorization: "Bearer abc" } })
    expect(((await json(ok)).headers as Record<string, string>).authorization).toBe("Bearer abc")
  })

  it("a unit's SAM_GATEWAY_TOKEN is valid for the services it depends on, 403 for others", async () => {
    h = await startGateway([
      upstream("store"),
      upstream("other"),
      upstream("caller", { dependsOn: ["store"] }),
    ])
    await h.routable("caller", 1)
    // The caller's process got its token in its environment.
    const port = h.sam.unitStatus("caller").instances[0]!.port
    const token = String((await json(await fetch(`http://127.0.0.1:${port}/env`))).SAM_GATEWAY_TOKEN)
    expect(token).toMatch(/^samu_caller\./)
    const as = (id: string, t: string) =>
      fetch(`${h!.url}/api/${id}/whoami`, { headers: { authorization: `Bearer ${t}` } })
    expect((await as("store", token)).status).toBe(200)
    const refused = await as("other", token)
    expect(refused.status).toBe(403)
    expect((await json(refused)).detail).toBe(
      '"caller" may not call "other" through the gateway: add "other" to its depends_on',
    )
    expect((await as("store", "samu_caller.forged")).status).toBe(401)
  })

  it("the gateway's 401s, 403s and 413s are requests of the service in the metrics (sam_gateway_requests_total, 4xx)", async () => {
    h = await startGateway([
      upstream("api", { gateway: { auth: "token", maxBodyBytes: 10 } }),
      upstream("caller"),
    ])
    await h.routable("api", 1)
    await h.routable("caller", 1)
    const port = h.sam.unitStatus("caller").instances[0]!.port
    const token = String((await json(await fetch(`http://127.0.0.1:${port}/env`))).SAM_GATEWAY_TOKEN)
    const records: Array<{ service: string; method: string; status: number }> = []
    const off = h.gateway.metrics.onRequest(({ service, method, status }) =>
      records.push({ service, method, status }),
    )
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(401)
    const forbidden = await fetch(`${h.url}/api/api/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    })
    expect(forbidden.status).toBe(403)
    // A WebSocket upgrade refused the same way.
    const upgrade = await new Promise<number>((resolve, reject) => {
      const req = request(`${h!.url}/api/api/ws`, {
        headers: { connection: "Upgrade", upgrade: "websocket" },
      })
      req.on("response", (res) => {
        res.resume()
        resolve(res.statusCode as number)
      })
      req.on("error", reject)
      req.end()
    })
    expect(upgrade).toBe(401)
    expect((await fetch(`${h.url}/api/api/echo`, { method: "PUT", body: "x".repeat(11) })).status).toBe(413)
    off()
    expect(records).toEqual([
      { service: "api", method: "GET", status: 401 },
      { service: "api", method: "POST", status: 403 },
      { service: "api", method: "GET", status: 401 },
      { service: "api", method: "PUT", status: 413 },
    ])
  })
})

describe("request limits", () => {
  it("a body over max_body_bytes is refused with 413 before it is read", async () => {
    h = await startGateway([upstream("api", { gateway: { maxBodyBytes: 10 } })])
    await h.routable("api", 1)
    const response = await fetch(`${h.url}/api/api/echo`, { method: "POST", body: "x".repeat(11) })
    expect(response.status).toBe(413)
    const small = await fetch(`${h.url}/api/api/echo`, { method: "POST", body: "hello" })
    expect((await json(small)).body).toBe("hello")
  })

  it("max_body_bytes 0 is no limit", async () => {
    h = await startGateway([upstream("api", { gateway: { maxBodyBytes: 0 } })])
    await h.routable("api", 1)
    const body = "x".repeat(11 * 1024 * 1024) // past the default limit of 10 MiB
    const response = await fetch(`${h.url}/api/api/echo`, { method: "POST", body })
    expect(response.status).toBe(200)
    expect(String((await json(response)).body).length).toBe(body.length)
  })
})
