// The request target in absolute form (`GET http://127.0.0.1:7070/api/status HTTP/1.1`, RFC 9112
// 3.2.2: what a client sends a proxy) is the same request as its origin form (`GET /api/status`
// with that Host): routed by the gateway and the control API alike, its dot segments handled the
// same way, its credential checked the same way, and its authority judged by the Host rule.
// Other absolute targets (another scheme, userinfo, no host) are a 400.
import { connect } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { type GatewayHarness, LOCAL_TEST_TOKEN, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

interface Answer {
  readonly status: number
  readonly headers: string
  readonly body: string
}

/** One request as raw bytes (`GET <target>`, any Host), answered once the server closes. */
const send = (url: string, target: string, headers: Record<string, string> = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const { hostname, port, host } = new URL(url)
    const lines = Object.entries({ host, ...headers, connection: "close" }).map(([k, v]) => `${k}: ${v}\r\n`)
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(`GET ${target} HTTP/1.1\r\n${lines.join("")}\r\n`),
    )
    let raw = ""
    socket.on("data", (chunk) => {
      raw += chunk.toString()
    })
    socket.on("error", reject)
    socket.on("close", () => {
      const end = raw.indexOf("\r\n\r\n")
      resolve({
        status: Number(raw.slice(9, 12)),
        headers: raw.slice(0, end),
        body: raw.slice(end + 4),
      })
    })
  })

/** A JSON body, chunked or not (the upstream answers with a length, SAM's problems too). */
const json = (answer: Answer): Record<string, unknown> => {
  const body = /transfer-encoding: chunked/i.test(answer.headers)
    ? answer.body.replace(/^[0-9a-f]+\r\n/, "").replace(/\r\n0\r\n\r\n$/, "")
    : answer.body
  return JSON.parse(body) as Record<string, unknown>
}

const token = { authorization: `Bearer ${LOCAL_TEST_TOKEN}` }

describe("a request target in absolute form", () => {
  it("is routed as its origin form: the gateway's services, their dot segments, the control API", async () => {
    h = await startGateway([upstream("web"), upstream("locked", { gateway: { auth: "token" } })])
    await h.routable("web", 1)
    await h.routable("locked", 1)
    const absolute = (path: string) => `http://${new URL(h!.url).host}${path}`
    for (const path of [
      "/api/web/echo?q=1",
      // Dot segments never climb out of the service: web gets /echo, not the control API /api/echo.
      "/api/web/../echo",
      "/api/web/a/../../echo",
      "/api/web/x/%2e%2E/echo",
    ]) {
      const origin = await send(h.url, path)
      const proxied = await send(h.url, absolute(path))
      expect(proxied.status, path).toBe(origin.status)
      expect(proxied.status, path).toBe(200)
      expect(json(proxied).url, path).toBe(json(origin).url)
    }
    // The service gets the Host and forwarded host of an origin-form request.
    const seen = json(await send(h.url, absolute("/api/web/echo")))
    expect((seen.headers as Record<string, string>)["x-forwarded-host"]).toBe(new URL(h.url).host)

    // A service's auth and the control API's credential check see it too.
    expect((await send(h.url, absolute("/api/locked/echo"))).status).toBe(401)
    expect((await send(h.url, absolute("/api/locked/echo"), token)).status).toBe(200)
    expect((await send(h.url, absolute("/api/status"))).status).toBe(401)
    expect((await send(h.url, absolute("/api/status"), token)).status).toBe(200)
    // An empty path is `/`: the sign-in form.
    const form = await send(h.url, absolute(""))
    expect(form.status).toBe(200)
    expect(form.body).toContain('name="token"')
    expect(h.errors).toEqual([])
  })

  it("a WebSocket upgrade in absolute form reaches the service, as its origin form does", async () => {
    h = await startGateway([upstream("web")])
    await h.routable("web", 1)
    const { hostname, port, host } = new URL(h.url)
    const first = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () =>
        socket.write(
          `GET http://${host}/api/web/socket HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        ),
      )
      socket.once("data", (chunk) => {
        socket.destroy()
        resolve(chunk.toString())
      })
      socket.on("error", reject)
    })
    expect(first).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/)
  })

  it("its authority is the request's Host (RFC 9112 3.2.2): a name that is no loopback name is a 421", async () => {
    h = await startGateway([upstream("web")])
    await h.routable("web", 1)
    for (const target of ["http://rebound.example/api/status", "http://rebound.example:80/api/web/echo"]) {
      const refused = await send(h.url, target, token)
      expect(refused.status, target).toBe(421)
      expect(json(refused)).toMatchObject({
        type: "urn:sam:problem:host-not-allowed",
        detail: expect.stringContaining("rebound.example"),
      })
    }
    // The authority counts, not the Host header a client sent beside it.
    const own = await send(h.url, `http://${new URL(h.url).host}/api/status`, {
      ...token,
      host: "rebound.example",
    })
    expect(own.status).toBe(200)
  })

  it("an absolute target that is no http URL SAM can route is a 400", async () => {
    h = await startGateway([])
    const port = new URL(h.url).port
    for (const target of [
      `ftp://127.0.0.1:${port}/api/status`,
      `http://admin@127.0.0.1:${port}/api/status`,
      "http:///api/status",
    ]) {
      const refused = await send(h.url, target, token)
      expect(refused.status, target).toBe(400)
      expect(json(refused).detail, target).toContain("request target")
    }
    expect(h.errors).toEqual([])
  })
})
