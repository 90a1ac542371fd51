import { request as httpRequest } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import { agentUnit, stopAll } from "../support/agents.ts"
import {
  externalService,
  type GatewayHarness,
  LOCAL_TEST_TOKEN,
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
  expect(await stopAll()).toEqual([])
})

const json = async (response: Response) => (await response.json()) as Record<string, unknown>

describe("routing /api/<service>/...", () => {
  it("proxies to the service with the prefix stripped and the query kept, adding forwarding headers", async () => {
    h = await startGateway([upstream("notes")])
    await h.routable("notes", 1)
    const response = await fetch(`${h.url}/api/notes/echo?q=1&r=two`, {
      headers: {
        "x-request-id": "req-42",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("x-request-id")).toBe("req-42")
    const body = await json(response)
    expect(body.url).toBe("/echo?q=1&r=two")
    const headers = body.headers as Record<string, string>
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1")
    expect(headers["x-forwarded-proto"]).toBe("http")
    expect(headers["x-forwarded-host"]).toBe(new URL(h.url).host)
    expect(headers["x-request-id"]).toBe("req-42")
    expect(headers.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    expect(headers.host).toBe(`127.0.0.1:${h.sam.unitStatus("notes").instances[0]!.port}`)
    // Without one, the gateway makes a request id up and says it both ways.
    const fresh = await fetch(`${h.url}/api/notes/echo`)
    const id = fresh.headers.get("x-request-id")
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(((await json(fresh)).headers as Record<string, string>)["x-request-id"]).toBe(id)
    expect(h.errors).toEqual([])
  })

  it("a service that does not listen on its port (a worker) is a 502 that says so, and how to route none to it", async () => {
    const worker = { ...upstream("worker"), probes: [] }
    h = await startGateway([
      { ...worker, process: { ...worker.process!, args: ["-e", "setInterval(() => {}, 1 << 30)"] } },
    ])
    await h.sam.until("worker", (s) => s.ready)
    const response = await fetch(`${h.url}/api/worker/`)
    expect(response.status).toBe(502)
    expect((await json(response)).detail).toMatch(
      /^cannot connect to "worker" \(http:\/\/127\.0\.0\.1:\d+\): .*ECONNREFUSED.*; nothing listens on the port SAM gave "worker": does it serve HTTP on \$PORT\? \(one that serves none: gateway: \{ enabled: false \}\)$/,
    )
  })

  it("an unknown service is a 404 problem with a did-you-mean; control API paths stay the control API's", async () => {
    h = await startGateway([upstream("notes")])
    const response = await fetch(`${h.url}/api/note/echo`)
    expect(response.status).toBe(404)
    expect(response.headers.get("content-type")).toBe("application/problem+json")
    expect((await json(response)).detail).toBe(
      'no route GET /api/note (did you mean /api/notes?): no service "note"; GET /api/openapi.json lists every endpoint',
    )
    // The control API keeps its own credential check.
    expect((await fetch(`${h.url}/api/status`)).status).toBe(401)
    const status = await fetch(`${h.url}/api/status`, {
      headers: { authorization: `Bearer ${LOCAL_TEST_TOKEN}` },
    })
    expect(status.status).toBe(200)
    expect(await json(status)).toHaveProperty("services")
  })

  it("dot segments are removed from the path the service gets, never above its root, %2e too (%2F stays encoded)", async () => {
    h = await startGateway([upstream("api"), upstream("whole", { gateway: { stripPrefix: false } })])
    await h.routable("api", 1)
    await h.routable("whole", 1)
    // fetch() would normalise the path itself: a raw request, as `curl --path-as-is` sends it.
    const seen = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const request = httpRequest(`${h!.url}${path}`, { method: "GET" })
        request.path = path
        request.on("response", (response) => {
          const chunks: Buffer[] = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () =>
            resolve((JSON.parse(Buffer.concat(chunks).toString()) as { url: string }).url),
          )
        })
        request.on("error", reject)
        request.end()
      })
    expect(await seen("/api/api/../echo")).toBe("/echo")
    expect(await seen("/api/api/a/../../echo")).toBe("/echo")
    expect(await seen("/api/api/a/./b/../echo?x=../y")).toBe("/a/echo?x=../y")
    expect(await seen("/api/api/echo/%2e%2E/%2e/echo")).toBe("/echo")
    expect(await seen("/api/api/echo/a%2F..%2Fb")).toBe("/echo/a%2F..%2Fb")
    expect(await seen("/api/api/echo/dir/.")).toBe("/echo/dir/")
    expect(await seen("/api/whole/../../echo")).toBe("/api/whole/echo")
    expect(await seen("/api/whole/echo?q=1")).toBe("/api/whole/echo?q=1")
  })

  it("a redirect to the instance's own address points back through the gateway; X-Forwarded-Prefix says where the service sits", async () => {
    // /go answers 302 to ?to= ("SELF" is the Host the service was sent: the instance's address),
    // with ?named= as its Content-Location; /echo tells the headers it got.
    local = await localUpstream((req, res) => {
      const url = new URL(req.url ?? "/", "http://x")
      const self = `http://${req.headers.host}`
      if (url.pathname.endsWith("/go")) {
        const named = url.searchParams.get("named")
        res.writeHead(302, {
          location: String(url.searchParams.get("to")).replace("SELF", self),
          ...(named === null ? {} : { "content-location": named.replace("SELF", self) }),
        })
        res.end()
        return
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(req.headers))
    })
    h = await startGateway([
      ...externalService("web", local.origin),
      ...externalService("whole", local.origin, { strip_prefix: false }),
    ])
    await h.routable("web", 1)
    const redirect = async (service: string, to: string, named?: string) => {
      const query = new URLSearchParams({ to, ...(named === undefined ? {} : { named }) })
      const response = await fetch(`${h!.url}/api/${service}/go?${query}`, { redirect: "manual" })
      expect(response.status).toBe(302)
      return [response.headers.get("location"), response.headers.get("content-location")]
    }
    // The instance's own origin, as the service builds it from its Host: back through the gateway.
    expect(await redirect("web", "SELF/echo?a=1#top", "SELF/doc")).toEqual([
      "/api/web/echo?a=1#top",
      "/api/web/doc",
    ])
    expect(await redirect("web", "SELF")).toEqual(["/api/web/", null])
    expect(await redirect("whole", "SELF/api/whole/echo")).toEqual(["/api/whole/echo", null])
    // Another origin, or a path relative to the client's own origin, is left as it is.
    expect(await redirect("web", "http://elsewhere.example/echo")).toEqual([
      "http://elsewhere.example/echo",
      null,
    ])
    expect(await redirect("web", "/echo")).toEqual(["/echo", null])
    // Followed, the rewritten one reaches the service through the gateway.
    const followed = await fetch(`${h.url}/api/web/go?${new URLSearchParams({ to: "SELF/echo" })}`)
    expect(followed.url).toBe(`${h.url}/api/web/echo`)
    // The prefix the gateway took off, whatever a client claimed; none where it took none off.
    const seen = async (service: string) =>
      (
        await json(
          await fetch(`${h!.url}/api/${service}/echo`, { headers: { "x-forwarded-prefix": "/forged" } }),
        )
      )["x-forwarded-prefix"]
    expect(await seen("web")).toBe("/api/web")
    expect(await seen("whole")).toBeUndefined()
  })

  it("strip_prefix: false forwards the whole path; enabled: false is a 404; agents are not proxied", async () => {
    h = await startGateway([
      upstream("whole", { gateway: { stripPrefix: false } }),
      upstream("hidden", { gateway: { enabled: false } }),
      agentUnit("helper"),
    ])
    await h.routable("whole", 1)
    expect((await json(await fetch(`${h.url}/api/whole/echo?a=1`))).path).toBe("/api/whole/echo")
    const hidden = await fetch(`${h.url}/api/hidden/whoami`)
    expect(hidden.status).toBe(404)
    expect((await json(hidden)).detail).toBe(
      '"hidden" is not exposed through the gateway (gateway.enabled: false)',
    )
    const agent = await fetch(`${h.url}/api/helper/x`)
    expect(agent.status).toBe(404)
    expect((await json(agent)).detail).toContain('"helper" is an agent: agents are not proxied')
    const bad = await fetch(`${h.url}/api/whole/%E0%A4%A`)
    expect(bad.status).toBe(400)
  })

  it("a request with Expect: 100-continue (curl's large uploads) gets its 100 and reaches the service with its body", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    const body = "y".repeat(2 * 1024 * 1024)
    const answer = await new Promise<{ status: number; text: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false
        const request = httpRequest(`${h!.url}/api/api/echo`, {
          method: "POST",
          headers: { expect: "100-continue", "content-length": String(body.length) },
        })
        request.on("continue", () => {
          continued = true
          request.end(body)
        })
        request.on("response", (response) => {
          const chunks: Buffer[] = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              continued,
            }),
          )
        })
        request.on("error", reject)
      },
    )
    expect(answer.continued).toBe(true)
    expect(answer.status).toBe(200)
    const echoed = JSON.parse(answer.text) as { body: string; headers: Record<string, string> }
    expect(echoed.body.length).toBe(body.length)
    expect(echoed.headers.expect).toBeUndefined()
    expect(h.errors).toEqual([])
  })

  it("a request with Expect: 100-continue and a Content-Length past max_body_bytes gets its 413 without a 100 Continue", async () => {
    h = await startGateway([upstream("api", { gateway: { maxBodyBytes: 1024 } })])
    await h.routable("api", 1)
    const answer = await new Promise<{ status: number; text: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false
        const request = httpRequest(`${h!.url}/api/api/upload`, {
          method: "POST",
          headers: { expect: "100-continue", "content-length": String(12 * 1024 * 1024) },
        })
        request.on("continue", () => {
          continued = true
        })
        request.on("response", (response) => {
          const chunks: Buffer[] = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              continued,
            }),
          )
        })
        request.on("error", reject)
      },
    )
    expect(answer.continued).toBe(false)
    expect(answer.status).toBe(413)
    expect((JSON.parse(answer.text) as { detail: string }).detail).toBe(
      'the request body for "api" is larger than its limit of 1024 bytes (gateway.max_body_bytes)',
    )
    expect(h.errors).toEqual([])
  })

  it("a request with Expect: 100-continue to a service with auth: token gets 100 Continue only with a credential", async () => {
    h = await startGateway([upstream("api", { gateway: { auth: "token" } })])
    await h.routable("api", 1)
    const body = "z".repeat(64 * 1024)
    const upload = (headers: Record<string, string>) =>
      new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
        let continued = false
        const request = httpRequest(`${h!.url}/api/api/echo`, {
          method: "POST",
          headers: { ...headers, expect: "100-continue", "content-length": String(body.length) },
        })
        request.on("continue", () => {
          continued = true
          request.end(body)
        })
        request.on("response", (response) => {
          response.resume()
          response.on("end", () => resolve({ status: response.statusCode ?? 0, continued }))
        })
        request.on("error", reject)
      })
    expect(await upload({})).toEqual({ status: 401, continued: false })
    expect(await upload({ authorization: "Bearer not-a-token-of-this-sam" })).toEqual({
      status: 401,
      continued: false,
    })
    expect(await upload({ authorization: `Bearer ${LOCAL_TEST_TOKEN}` })).toEqual({
      status: 200,
      continued: true,
    })
    expect(h.errors).toEqual([])
  })

  it("a chunked body that passes max_body_bytes is cut with 413", async () => {
    h = await startGateway([upstream("api", { gateway: { maxBodyBytes: 100 } })])
    await h.routable("api", 1)
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(50)))
        controller.close()
      },
    })
    const response = await fetch(`${h.url}/api/api/echo`, {
      method: "POST",
      body: chunks,
      duplex: "half",
    } as RequestInit)
    expect(response.status).toBe(413)
    expect((await json(response)).detail).toBe(
      'the request body for "api" is larger than its limit of 100 bytes (gateway.max_body_bytes)',
    )
  })

  it("balance: hash keeps a client on one instance by its header", async () => {
    h = await startGateway([
      upstream("notes", {
        instances: 2,
        maxInstances: 2,
        gateway: { balance: "hash", hash: { header: "x-user" } },
      }),
    ])
    await h.routable("notes", 2)
    const instanceOf = async (user: string) =>
      String(
        (await json(await fetch(`${h!.url}/api/notes/whoami`, { headers: { "x-user": user } }))).instance,
      )
    const users = Array.from({ length: 8 }, (_, i) => `user-${i}`)
    const first = await Promise.all(users.map(instanceOf))
    expect(await Promise.all(users.map(instanceOf))).toEqual(first)
    expect(new Set(first).size).toBe(2)
  })

  it("spreads requests over two instances", async () => {
    h = await startGateway([upstream("notes", { instances: 2, maxInstances: 2 })])
    await h.routable("notes", 2)
    const seen = new Map<string, number>()
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const body = await json(await fetch(`${h!.url}/api/notes/slow?ms=20`))
        seen.set(String(body.instance), (seen.get(String(body.instance)) ?? 0) + 1)
      }),
    )
    expect([...seen.keys()].sort()).toEqual(["0", "1"])
    for (const n of seen.values()) expect(n).toBeGreaterThan(5)
  })
})
