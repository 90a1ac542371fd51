// The control API's protections and edges: body size limit, slow and malformed clients, graceful
// shutdown of event streams, the address being taken (credentials and the loopback rule:
// auth.test.ts). Plugin routes: pluginRoutes.test.ts; wrong methods and malformed paths: routing.test.ts.
import { request } from "node:http"
import { connect } from "node:net"
import { afterEach, describe, expect, it, vi } from "vitest"
import { startApiServer } from "../../src/api/apiServer.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { nodeService } from "../support/runtime.ts"
import { type ApiHarness, parseFrames, readEvents, startApi } from "./apiHarness.ts"

const open: ApiHarness[] = []
const harness = async (...args: Parameters<typeof startApi>) => {
  const h = await startApi(...args)
  open.push(h)
  return h
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    expect(await h.close()).toEqual([])
    expect(h.errors).toEqual([])
  }
})

/** Send raw bytes, then collect everything the server answers until it closes the connection. */
const rawExchange = (url: string, bytes: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes))
    let answer = ""
    socket.on("data", (chunk) => {
      answer += chunk.toString()
    })
    socket.on("error", reject)
    socket.on("close", () => resolve(answer))
  })

describe("request limits", () => {
  it("a body over the limit is a 413 problem before it is read; a body without a length is a 411", async () => {
    const h = await harness([], { maxBodyBytes: 1024 })
    const big = await h.fetch("/api/capabilities/echo/invoke", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: "x".repeat(4096) }),
    })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ status: 413, detail: expect.stringContaining("1024 bytes") })

    const chunked = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const req = request(`${h.url}/api/capabilities/echo/invoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.token("ops")}`, "content-type": "application/json" },
      })
      req.on("response", (res) => {
        let body = ""
        res.on("data", (c) => {
          body += c
        })
        res.on("end", () => resolve({ status: res.statusCode, body }))
      })
      req.on("error", reject)
      req.write('{"input":')
      req.end("1}")
    })
    expect(chunked.status).toBe(411)
    expect(JSON.parse(chunked.body)).toMatchObject({ status: 411 })
  })

  it("a client that sends its headers too slowly gets a 408 and a closed connection", async () => {
    const h = await harness([], { headersTimeoutMs: 300, requestTimeoutMs: 300 })
    const answer = await rawExchange(h.url, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(answer).toContain("application/problem+json")
    expect(answer).toContain("slow client")
    // SAM still answers others.
    expect((await h.fetch("/api/status", { as: "watcher" })).status).toBe(200)
  })

  it("a client that trickles its body is cut off with a 408", async () => {
    const h = await harness([], { headersTimeoutMs: 300, requestTimeoutMs: 400 })
    const answer = await rawExchange(
      h.url,
      `POST /api/capabilities/echo/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${h.token("ops")}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input":',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  })

  it("malformed HTTP is a 400 problem", async () => {
    const h = await harness([])
    const answer = await rawExchange(h.url, "HELLO THERE\r\n\r\n")
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(answer).toContain('"status":400')
  })
})

/**
 * Send a request's head announcing a body with `Expect: 100-continue`; send `body` only if the
 * server answers `100 Continue` first (as curl does). What arrived first, and everything by the
 * time the connection has been quiet for 300 ms.
 */
const expectingContinue = (url: string, head: string, body: string) =>
  new Promise<{ first: string; answer: string }>((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`),
    )
    let first = ""
    let answer = ""
    let quiet: NodeJS.Timeout | undefined
    const done = () => {
      socket.destroy()
      resolve({ first, answer })
    }
    const nothing = setTimeout(done, 3_000)
    socket.on("data", (chunk) => {
      clearTimeout(nothing)
      if (answer === "") {
        first = chunk.toString()
        if (first.startsWith("HTTP/1.1 100 Continue\r\n")) socket.write(body)
      }
      answer += chunk.toString()
      clearTimeout(quiet)
      quiet = setTimeout(done, 300)
    })
    socket.on("error", reject)
  })

describe("Expect: 100-continue", () => {
  it("only a request SAM would read the body of gets 100 Continue: no credential, a wrong one, a wrong Host or a cross-site cookie get their refusal first", async () => {
    const h = await harness([])
    const body = JSON.stringify({ input: 1 })
    const post = (path: string, headers: string) =>
      expectingContinue(
        h.url,
        `POST ${path} HTTP/1.1\r\nHost: ${new URL(h.url).host}\r\nContent-Type: application/json\r\n${headers}`,
        body,
      )
    const invoke = "/api/capabilities/echo/invoke"

    const anonymous = await post(invoke, "")
    expect(anonymous.first).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/)
    expect(anonymous.answer).not.toContain("100 Continue")
    expect(anonymous.answer).toContain("this SAM requires a credential")
    const wrong = await post(invoke, "Authorization: Bearer not-a-token-of-this-sam\r\n")
    expect(wrong.first).toMatch(/^HTTP\/1\.1 401 /)
    const forged = await post(invoke, `Cookie: sam_session_${h.server.port}=forged\r\n`)
    expect(forged.first).toMatch(/^HTTP\/1\.1 401 /)
    const elsewhere = await expectingContinue(
      h.url,
      `POST ${invoke} HTTP/1.1\r\nHost: rebound.example\r\nAuthorization: Bearer ${h.token("ops")}\r\n`,
      body,
    )
    expect(elsewhere.first).toMatch(/^HTTP\/1\.1 421 /)

    // A valid session cookie, but not from SAM's own page: the CSRF rule's 403, before the body.
    const signIn = await fetch(`${h.url}/?token=${h.token("ops")}`, { redirect: "manual" })
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]
    const crossSite = await post(invoke, `Cookie: ${cookie}\r\nOrigin: http://127.0.0.1:1\r\n`)
    expect(crossSite.first).toMatch(/^HTTP\/1\.1 403 /)
    expect(crossSite.answer).toContain("urn:sam:problem:cross-site")

    // Authenticated, by token or by the cookie from SAM's own page: 100, then the body is read.
    for (const credential of [
      `Authorization: Bearer ${h.token("ops")}\r\n`,
      `Cookie: ${cookie}\r\nOrigin: ${h.url}\r\n`,
    ]) {
      const welcome = await post(invoke, credential)
      expect(welcome.first).toMatch(/^HTTP\/1\.1 100 Continue\r\n/)
      expect(welcome.answer).toMatch(/\r\n\r\nHTTP\/1\.1 404 Not Found\r\n/)
      expect(welcome.answer).toContain("urn:sam:problem:capability-not-found")
    }
    // The token form is where a browser without a credential sends its token.
    const form = await expectingContinue(
      h.url,
      `POST / HTTP/1.1\r\nHost: ${new URL(h.url).host}\r\nOrigin: ${h.url}\r\nContent-Type: application/x-www-form-urlencoded\r\n`,
      `token=${h.token("ops")}`,
    )
    expect(form.first).toMatch(/^HTTP\/1\.1 100 Continue\r\n/)
    expect(form.answer).toContain("HTTP/1.1 303 See Other")
  })
})

describe("shutdown", () => {
  it("a client that goes away releases its event stream's subscription", async () => {
    const h = await harness([])
    const listeners = h.sam.bus.listenerCount
    await readEvents(await h.fetch("/api/events", { as: "watcher" }), (frames) => frames.length > 0)
    await vi.waitFor(() => expect(h.sam.bus.listenerCount).toBe(listeners))
  })

  it("close() ends open event streams with a shutdown event and releases their subscriptions", async () => {
    const h = await harness([nodeService("db", "http-service.mjs")])
    const listeners = h.sam.bus.listenerCount
    const response = await h.fetch("/api/events", { as: "watcher" })
    const reader = response.body!.getReader()
    let raw = ""
    while (!raw.includes("event: snapshot")) raw += new TextDecoder().decode((await reader.read()).value)
    expect(h.sam.bus.listenerCount).toBe(listeners + 1)
    const closing = h.server.close()
    while (true) {
      const { value, done } = await reader.read()
      if (done) break
      raw += new TextDecoder().decode(value)
    }
    await closing
    expect(parseFrames(raw).at(-1)).toMatchObject({ event: "shutdown" })
    // The stream's subscription is gone, and so is the gateway's (it closes with the server).
    expect(h.sam.bus.listenerCount).toBe(listeners - 1)
    // Closing the API leaves SAM's units alone.
    expect(h.sam.status().units[0]?.state).toBe("running")
  })
})

describe("binding", () => {
  it("an address in use is an ApiServeError that says what to do", async () => {
    const h = await harness([])
    const sam = new Sam({ units: [] })
    const taken = await startApiServer({
      sam,
      port: h.server.port,
      localToken: h.token("admin") as string,
    }).catch((e: unknown) => e)
    expect(taken).toMatchObject({ _tag: "ApiServeError", reason: "listen" })
    expect((taken as Error).message).toContain("the address is in use")
    await sam.stop()
  })
})
