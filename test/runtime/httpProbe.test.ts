// The HTTP check against real servers on 127.0.0.1: what it sends (path, query, Host), how it
// reads the answer (the status line only), and each way a check fails (refused, silent, not
// HTTP, aborted), with the detail it reports.
import { createServer as createHttpServer, type Server } from "node:http"
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { httpProbe } from "../../src/runtime/health/httpProbe.ts"
import type { ProbeTarget } from "../../src/runtime/health/probe.ts"
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
) => httpProbe(httpCheck({ timeoutMs: 300, ...overrides }), target(port), signal)

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
