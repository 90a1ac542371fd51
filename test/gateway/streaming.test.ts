import { once } from "node:events"
import { type IncomingMessage, request } from "node:http"
import { connect, type Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import {
  eventually,
  externalService,
  type GatewayHarness,
  type LocalUpstream,
  localUpstream,
  startGateway,
  upstream,
} from "../support/gateway.ts"
import { closePhase, openResources } from "../support/handles.ts"

let h: GatewayHarness | undefined
let local: LocalUpstream | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  await local?.close()
  local = undefined
  expect(left ?? []).toEqual([])
})

/** A promise and the function that resolves it. */
const signal = <T = void>() => {
  let resolve: (value: T) => void = () => {}
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Rejects with `what` if `promise` has not settled within `ms`: a hang becomes a failure that says why. */
const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })

const upstreamStats = async (h: GatewayHarness) => {
  const port = h.sam.unitStatus("api").instances[0]!.port
  return (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { aborted: number; open: number }
}

/** GET `url` and destroy the request: at once (mid-headers) or after the first body chunk (mid-stream). */
const abortedGet = (url: string, when: "headers" | "stream") =>
  new Promise<void>((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.once("data", () => {
        req.destroy()
        resolve()
      })
    })
    req.on("error", () => resolve())
    req.on("close", () => resolve())
    req.end()
    if (when === "headers") setImmediate(() => req.destroy())
  })

/**
 * A WebSocket-style upgrade through the gateway to a service that never ends its half on a FIN
 * (its sockets are half-open, as node:http's are, and it never closes them). `halfOpenClient`:
 * the client's socket is half-open too, and does not end when the gateway does.
 */
const upgradedPair = async (halfOpenClient: boolean) => {
  const served = signal<Socket>()
  local = await localUpstream((_req, res) => res.writeHead(404).end())
  local.server.on("upgrade", (_req, socket: Socket) => {
    socket.on("error", () => socket.destroy())
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    served.resolve(socket)
  })
  h = await startGateway(externalService("chat", local.origin))
  await h.routable("chat", 1)
  const client = connect({
    port: Number(new URL(h.url).port),
    host: "127.0.0.1",
    allowHalfOpen: halfOpenClient,
  })
  client.on("error", () => client.destroy())
  client.write(
    "GET /api/chat/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  )
  let head = ""
  while (!head.includes("\r\n\r\n")) head += String((await once(client, "data"))[0])
  expect(head).toMatch(/^HTTP\/1\.1 101 /)
  const upstream = await served.promise
  expect(h.gateway.inFlight("chat", 0)).toBe(1)
  return { upstream, client }
}

/** Resolves once the other end of `socket` is gone: its EOF, or a reset. */
const eof = (socket: Socket) =>
  new Promise<void>((resolve) => {
    socket.once("end", resolve)
    socket.once("close", resolve)
  })

describe("streaming through the gateway", () => {
  it("SSE events arrive one by one, as the service sends them", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    const port = h.sam.unitStatus("api").instances[0]!.port
    // The service sends its next event only when told to (/next): each event must reach the
    // client before the next one even exists, or this read never returns.
    const response = await fetch(`${h.url}/api/api/sse?step`)
    expect(response.headers.get("content-type")).toBe("text/event-stream")
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ""
    const arrivals: Array<{ n: number; sentAt: number; arrivedAt: number }> = []
    while (arrivals.length < 4) {
      const { value } = await reader.read()
      text += decoder.decode(value, { stream: true })
      const events = text.split("\n\n").slice(0, -1)
      for (const event of events.slice(arrivals.length)) {
        const data = JSON.parse(event.replace(/^data: /, "")) as { n: number; at: number }
        arrivals.push({ n: data.n, sentAt: data.at, arrivedAt: Date.now() })
        if (arrivals.length < 4) await fetch(`http://127.0.0.1:${port}/next`)
      }
    }
    await reader.cancel()
    expect(arrivals.map((a) => a.n)).toEqual([0, 1, 2, 3])
    // Every event arrived after it was sent (the timestamps of both ends).
    for (const a of arrivals) expect(a.arrivedAt).toBeGreaterThanOrEqual(a.sentAt)
  })

  it("an event stream's head reaches the client before its first event exists", async () => {
    // The service flushes its head and sends its first event only once the test saw that head
    // arrive through the gateway: a head held until the first body byte never arrives.
    const headSeen = signal()
    local = await localUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.flushHeaders()
      void headSeen.promise.then(() => res.end("data: first\n\n"))
    })
    h = await startGateway(externalService("feed", local.origin))
    await h.routable("feed", 1)
    const response = signal<IncomingMessage>()
    const req = request(`${h.url}/api/feed/stream`, { agent: false }, response.resolve)
    req.end()
    const res = await within(response.promise, 5_000, "the head waited for the first event")
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("text/event-stream")
    headSeen.resolve()
    let body = ""
    for await (const chunk of res) body += String(chunk)
    expect(body).toBe("data: first\n\n")
  })

  it("a stream cut by idle_ms before its first event gave the client its head, then the cut", async () => {
    // The service flushes its head and never sends a byte of body: idle_ms ends it.
    local = await localUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.flushHeaders()
    })
    h = await startGateway(externalService("feed", local.origin, { timeouts: { idle_ms: 200 } }))
    await h.routable("feed", 1)
    const outcome = await new Promise<{ status?: number; error?: string }>((resolve) => {
      const req = request(`${h!.url}/api/feed/stream`, { agent: false }, (res) => {
        res.on("error", () => resolve({ status: res.statusCode as number, error: "cut" }))
        res.on("end", () => resolve({ status: res.statusCode as number }))
        res.resume()
      })
      // Without a head, the connection closes on an empty reply (curl's rc 52).
      req.on("error", (error) => resolve({ error: error.message }))
      req.end()
    })
    expect(outcome).toEqual({ status: 200, error: "cut" })
  })

  it("a client that goes away aborts the upstream request", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    await abortedGet(`${h.url}/api/api/hang?stream`, "stream")
    await eventually(async () => (await upstreamStats(h!)).aborted === 1)
    expect(h.gateway.inFlight("api", 0)).toBe(0)
  })

  it("a WebSocket echo works through the gateway", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    const socket = new WebSocket(`${h.url.replace("http", "ws")}/api/api/ws`)
    const reply = await new Promise<string>((resolve, reject) => {
      socket.onopen = () => socket.send("hello")
      socket.onmessage = (event) => resolve(String(event.data))
      socket.onerror = () => reject(new Error("the WebSocket failed"))
    })
    expect(reply).toBe("echo 0: hello")
    expect(h.gateway.inFlight("api", 0)).toBe(1)
    const closed = new Promise((resolve) => {
      socket.onclose = resolve
    })
    socket.close()
    await closed
    await eventually(() => h!.gateway.inFlight("api", 0) === 0)
  })

  it("a client's FIN ends the WebSocket pair even when the service ignores it: both sockets closed, nothing in flight", async () => {
    const { upstream: served, client } = await upgradedPair(false)
    client.end()
    // The service never ends its half: it sees the gateway's side go, and nothing more.
    await Promise.all([once(client, "close"), eof(served)])
    expect(h!.gateway.inFlight("chat", 0)).toBe(0)
  })

  it("a service's FIN ends the WebSocket pair even when the client ignores it", async () => {
    const { upstream: served, client } = await upgradedPair(true)
    served.end()
    await Promise.all([eof(client), once(served, "close")])
    await eventually(() => h!.gateway.inFlight("chat", 0) === 0)
  })

  it("1,000 streams aborted mid-headers and mid-stream leave no open socket and SAM standing", async () => {
    h = await startGateway([upstream("api")])
    await h.routable("api", 1)
    await closePhase()
    const sockets = () => openResources().filter((r) => r === "Socket" || r === "TCP").length
    const before = sockets()
    for (let batch = 0; batch < 20; batch++)
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          abortedGet(
            `${h!.url}/api/api/hang${i % 2 === 0 ? "?stream" : ""}`,
            i % 2 === 0 ? "stream" : "headers",
          ),
        ),
      )
    await eventually(async () => (await upstreamStats(h!)).open <= 1)
    await eventually(() => h!.gateway.inFlight("api", 0) === 0)
    // The keep-alive pool may hold a few idle connections to the instance; no more than that.
    await closePhase()
    expect(sockets() - before).toBeLessThanOrEqual(2)
    // Still answering.
    expect((await fetch(`${h.url}/api/api/whoami`)).status).toBe(200)
    expect(h.errors).toEqual([])
  })
})
