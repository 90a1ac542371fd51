// The HTTP check against real servers on 127.0.0.1: what it sends (path, query, Host), how it
// reads the answer (the status line only), and each way a check fails (refused, silent, not
// HTTP, aborted), with the detail it reports.
import { createServer as createHttpServer, type Server } from "node:http"
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { httpProbe } from "../../src/runtime/health/httpProbe.ts"
import type { ProbeSession, ProbeTarget } from "../../src/runtime/health/probe.ts"
import { httpCheck } from "../support/runtime.ts"

const servers: Array<Server | TcpServer> = []
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  for (const server of servers.splice(0))
    await new Promise<void>((resolve) => {
      if ("closeAllConnections" in server) server.closeAllConnections()
      server.close(() => resolve())
    })
})

const listen = async <S extends Server | TcpServer>(server: S): Promise<number> => {
  servers.push(server)
  server.on("connection", (socket: Socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
}

const target = (port: number): ProbeTarget => ({
  unit: "web",
  instance: 0,
  host: "127.0.0.1",
  port,
  url: undefined,
  pid: undefined,
})

const check = (
  port: number,
  overrides: Parameters<typeof httpCheck>[0] = {},
  signal = new AbortController().signal,
  session?: ProbeSession,
) => httpProbe(httpCheck({ timeoutMs: 300, ...overrides }), target(port), signal, session)

describe("the HTTP check", () => {
  it("GETs the endpoint with its query and Host, and passes on 2xx/3xx", async () => {
    const seen: Array<{ url: string | undefined; host: string | undefined; method: string | undefined }> = []
    const port = await listen(
      createHttpServer((req, res) => {
        seen.push({ url: req.url, host: req.headers.host, method: req.method })
        res.writeHead(req.url?.startsWith("/moved") ? 302 : 200, { location: "/" }).end("a body nobody reads")
      }),
    )
    expect(await check(port, { endpoint: "/health?deep=1" })).toEqual({
      ok: true,
      detail: `GET http://127.0.0.1:${port}/health?deep=1 -> 200`,
    })
    expect((await check(port, { endpoint: "/moved" })).ok).toBe(true)
    expect(seen[0]).toEqual({ url: "/health?deep=1", host: `127.0.0.1:${port}`, method: "GET" })
  })

  it("fails on 5xx, and on anything but expected_status when one is set", async () => {
    const port = await listen(
      createHttpServer((req, res) => res.writeHead(req.url === "/teapot" ? 418 : 503).end()),
    )
    expect(await check(port)).toEqual({ ok: false, detail: `GET http://127.0.0.1:${port}/health -> 503` })
    expect((await check(port, { endpoint: "/teapot", expectedStatus: 418 })).ok).toBe(true)
    expect((await check(port, { expectedStatus: 200 })).ok).toBe(false)
  })

  it("names the failure: refused, silent, not HTTP, aborted", async () => {
    const closed = await listen(createHttpServer())
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()))
    expect((await check(closed)).detail).toMatch(
      new RegExp(`^GET http://127\\.0\\.0\\.1:${closed}/health: connect ECONNREFUSED`),
    )

    const silent = await listen(createTcpServer(() => {}))
    expect(await check(silent)).toEqual({
      ok: false,
      detail: `GET http://127.0.0.1:${silent}/health: timed out after 300 ms`,
    })

    const garbage = await listen(createTcpServer((socket) => socket.end("SSH-2.0-OpenSSH\r\n")))
    expect((await check(garbage)).detail).toBe(
      `GET http://127.0.0.1:${garbage}/health: not an HTTP answer: "SSH-2.0-OpenSSH"`,
    )

    const hangup = await listen(createTcpServer((socket) => socket.end()))
    expect((await check(hangup)).detail).toBe(
      `GET http://127.0.0.1:${hangup}/health: the connection closed before an HTTP status line`,
    )

    const controller = new AbortController()
    const pending = check(silent, { timeoutMs: 5_000 }, controller.signal)
    controller.abort()
    expect((await pending).detail).toBe(`GET http://127.0.0.1:${silent}/health: aborted`)
  })
})

describe("the HTTP check's connection", () => {
  const session = (): ProbeSession => ({ kept: undefined, release: undefined })
  const counting = async (handler: (socket: Socket, request: number) => void) => {
    let connections = 0
    const closed: number[] = []
    const server = createTcpServer((socket) => {
      const id = ++connections
      let requests = 0
      let buffered = ""
      socket.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("latin1")
        while (buffered.includes("\r\n\r\n")) {
          buffered = buffered.slice(buffered.indexOf("\r\n\r\n") + 4)
          handler(socket, ++requests)
        }
      })
      socket.on("close", () => closed.push(id))
    })
    const port = await listen(server)
    return { port, connections: () => connections, closed }
  }
  const ok = (socket: Socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

  it("checks more often than every 5 s carry on over one connection; the loop's end closes it", async () => {
    const server = await counting((socket) => ok(socket))
    const s = session()
    for (let i = 0; i < 5; i++)
      expect(await check(server.port, { intervalMs: 1_000 }, undefined, s)).toEqual({
        ok: true,
        detail: `GET http://127.0.0.1:${server.port}/health -> 200`,
      })
    expect(server.connections()).toBe(1)
    s.release?.()
    const deadline = Date.now() + 5_000
    while (server.closed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(server.closed).toEqual([1])
  })

  it("checks every 5 s or less often, answers without Content-Length and Connection: close get a fresh connection each", async () => {
    const slow = await counting((socket) => ok(socket))
    const s = session()
    await check(slow.port, { intervalMs: 5_000 }, undefined, s)
    await check(slow.port, { intervalMs: 5_000 }, undefined, s)
    expect(slow.connections()).toBe(2)

    const chunked = await counting((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    )
    await check(chunked.port, { intervalMs: 100 }, undefined, s)
    await check(chunked.port, { intervalMs: 100 }, undefined, s)
    expect(chunked.connections()).toBe(2)

    const closing = await counting((socket) =>
      socket.write("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    expect((await check(closing.port, { intervalMs: 100 }, undefined, s)).ok).toBe(false)
    await check(closing.port, { intervalMs: 100 }, undefined, s)
    expect(closing.connections()).toBe(2)
    s.release?.()
  })

  it("a kept connection the server drops as it is reused is no failure: the check is made again on a fresh one", async () => {
    const server = await counting((socket, request) => {
      if (request === 1) ok(socket)
      else socket.destroy() // the keep-alive race: the server gave up on the idle connection
    })
    const s = session()
    expect((await check(server.port, { intervalMs: 1_000 }, undefined, s)).ok).toBe(true)
    expect(await check(server.port, { intervalMs: 1_000 }, undefined, s)).toEqual({
      ok: true,
      detail: `GET http://127.0.0.1:${server.port}/health -> 200`,
    })
    expect(server.connections()).toBe(2)
    s.release?.()
  })
})
