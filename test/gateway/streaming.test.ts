import { request } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import { eventually, type GatewayHarness, startGateway, upstream } from "../support/gateway.ts"
import { closePhase, openResources } from "../support/handles.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
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
