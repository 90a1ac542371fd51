import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { answerInProcess } from "../../src/gateway/inProcessRoute.ts"
import { GatewayRegistry } from "../../src/plugins/gatewayRegistry.ts"
import { type GatewayHarness, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
let outside: Server | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  await new Promise((resolve) => (outside ? outside.close(resolve) : resolve(undefined)))
  outside = undefined
  expect(left ?? []).toEqual([])
})

const json = async (response: Response) => (await response.json()) as Record<string, unknown>

/** The plugin host's side of the API server, with only its gateway registry (PluginHost has one). */
const backend = (gateway: GatewayRegistry) => ({
  list: () => [],
  liveInstance: () => undefined,
  reloadConfig: undefined,
  gateway,
})

describe("plugins' gateway.route registrations", () => {
  it("are served under /api/<prefix>: a handler, a URL target and a unit target", async () => {
    outside = createServer((req, res) => res.end(JSON.stringify({ outside: req.url })))
    await new Promise<void>((resolve) => outside!.listen(0, "127.0.0.1", resolve))
    const port = (outside.address() as AddressInfo).port
    const routes = new GatewayRegistry()
    routes.addRoute("hello-plugin", {
      prefix: "/hello",
      handler: (_req, res) => void res.end("hi from a plugin"),
    })
    routes.addRoute("proxy-plugin", { prefix: "/ext", target: `http://127.0.0.1:${port}/base` })
    routes.addRoute("alias-plugin", { prefix: "/notes-alias", target: "unit:notes" })
    h = await startGateway([upstream("notes")], { plugins: backend(routes) })
    await h.routable("notes", 1)
    expect(await (await fetch(`${h.url}/api/hello/anything`)).text()).toBe("hi from a plugin")
    expect(await json(await fetch(`${h.url}/api/ext/x?y=1`))).toEqual({ outside: "/base/x?y=1" })
    expect((await json(await fetch(`${h.url}/api/notes-alias/echo?z=2`))).url).toBe("/echo?z=2")
  })

  it("a handler that returns a value or throws is answered with a 500 that says why; one that never answers, a 504 at the bound", async () => {
    const routes = new GatewayRegistry()
    // The control API's api.get style, which a gateway handler is not: it answers with res.
    routes.addRoute("forgetful", {
      prefix: "/forgetful",
      handler: (() => ({ status: 200, body: "x" })) as unknown as () => void,
    })
    routes.addRoute("thrower", {
      prefix: "/thrower",
      handler: async () => {
        throw new Error("no")
      },
    })
    const errors: string[] = []
    h = await startGateway([], { plugins: backend(routes), onError: (m) => errors.push(m) })
    const returned = await fetch(`${h.url}/api/forgetful/x`)
    expect(returned.status).toBe(500)
    expect((await json(returned)).detail).toBe(
      'the gateway route /forgetful of plugin "forgetful" returned a value instead of answering: a gateway handler is (req, res) => void and answers with res (res.writeHead(200).end(body))',
    )
    const threw = await fetch(`${h.url}/api/thrower/x`)
    expect(threw.status).toBe(500)
    expect((await json(threw)).detail).toBe('the gateway route /thrower of plugin "thrower" failed')
    expect(errors).toEqual([
      'the gateway route /forgetful of plugin "forgetful" returned a value instead of answering with res',
      'the gateway route /thrower of plugin "thrower" threw: Error: no',
    ])

    // The bound, shortened: a handler that never answers gets a 504; one that began answering
    // (a stream) is left alone past it.
    const server = createServer((req, res) => {
      const route =
        req.url === "/silent"
          ? { prefix: "/silent", handler: () => {} }
          : {
              prefix: "/stream",
              handler: (_: unknown, r: typeof res) => void r.writeHead(200).write("tick\n"),
            }
      answerInProcess(req, res, { ...route, owner: "p" }, (m) => errors.push(m), 150)
      if (req.url === "/stream") setTimeout(() => res.end("tock\n"), 400)
    })
    outside = server
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const silent = await fetch(`${base}/silent`)
    expect(silent.status).toBe(504)
    expect((await json(silent)).detail).toBe(
      'the gateway route /silent of plugin "p" did not answer within 0.15s',
    )
    const stream = await fetch(`${base}/stream`)
    expect(stream.status).toBe(200)
    expect(await stream.text()).toBe("tick\ntock\n")
  })

  it("retries an idempotent request that got no answer, a POST only with Idempotency-Key", async () => {
    // A closed port: every try is refused.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const routes = new GatewayRegistry()
    routes.addRoute("down", { prefix: "/down", target: `http://127.0.0.1:${port}` })
    h = await startGateway([], { plugins: backend(routes) })
    const retries = () => h!.gateway.stats().services["plugin:down/down"]?.retries ?? 0
    const get = await fetch(`${h.url}/api/down/x`)
    expect(get.status).toBe(502)
    expect((await json(get)).detail).toContain("cannot connect to")
    expect(retries()).toBe(1)
    expect((await fetch(`${h.url}/api/down/x`, { method: "POST", body: "data" })).status).toBe(502)
    expect(retries()).toBe(1)
    const keyed = await fetch(`${h.url}/api/down/x`, {
      method: "POST",
      body: "data",
      headers: { "idempotency-key": "k1" },
    })
    expect(keyed.status).toBe(502)
    expect(retries()).toBe(2)
  })

  it("an onRequest middleware may answer instead of the service", async () => {
    const routes = new GatewayRegistry()
    routes.addMiddleware("guard", {
      onRequest: (request) =>
        request.headers["x-blocked"] === "yes" ? { status: 451, body: "blocked by a plugin" } : undefined,
    })
    h = await startGateway([upstream("notes")], { plugins: backend(routes) })
    await h.routable("notes", 1)
    const blocked = await fetch(`${h.url}/api/notes/whoami`, { headers: { "x-blocked": "yes" } })
    expect(blocked.status).toBe(451)
    expect(await blocked.text()).toBe("blocked by a plugin")
    expect((await fetch(`${h.url}/api/notes/whoami`)).status).toBe(200)
  })

  it("onResponse hooks see every proxied answer (a cache hit too) and may replace it; streams and big bodies pass unhooked", async () => {
    const routes = new GatewayRegistry()
    const seen: string[] = []
    routes.addMiddleware("stamp", {
      onResponse: (request, response) => {
        seen.push(`${request.method} ${request.url} ${response.status}`)
        if (request.url.includes("/status/418")) throw new Error("a broken hook")
        if (!request.url.includes("/whoami") && !request.url.includes("/cached")) return undefined
        const body = JSON.parse(Buffer.from(response.body ?? "").toString("utf8")) as Record<string, unknown>
        return {
          status: 203,
          headers: { ...response.headers, "x-stamped": "yes" },
          body: JSON.stringify({ ...body, stamped: true }),
        }
      },
    })
    // The second hook sees what the first returned.
    routes.addMiddleware("second", {
      onResponse: (_request, response) => ({
        ...response,
        headers: { ...response.headers, "x-second": String(response.status) },
      }),
    })
    h = await startGateway([upstream("notes", { gateway: { cache: { enabled: true } } })], {
      plugins: backend(routes),
    })
    await h.routable("notes", 1)

    const stamped = await fetch(`${h.url}/api/notes/whoami`)
    expect(stamped.status).toBe(203)
    expect(stamped.headers.get("x-stamped")).toBe("yes")
    expect(stamped.headers.get("x-second")).toBe("203")
    const text = await stamped.text()
    expect(stamped.headers.get("content-length")).toBe(String(Buffer.byteLength(text)))
    expect(JSON.parse(text)).toMatchObject({ instance: "0", stamped: true })

    // A cache hit is hooked as the miss was.
    const miss = await fetch(`${h.url}/api/notes/cached`)
    const hit = await fetch(`${h.url}/api/notes/cached`)
    expect([miss.headers.get("x-cache"), hit.headers.get("x-cache")]).toEqual(["miss", "hit"])
    expect(await hit.json()).toMatchObject({ count: 1, stamped: true })
    expect(await miss.json()).toMatchObject({ count: 1, stamped: true })

    // A chain that throws leaves the answer as the service sent it.
    const teapot = await fetch(`${h.url}/api/notes/status/418`)
    expect(teapot.status).toBe(418)
    expect(teapot.headers.get("x-second")).toBe(null)
    expect(await teapot.json()).toMatchObject({ status: 418 })

    // A 204 goes out without a body or a content-length.
    const empty = await fetch(`${h.url}/api/notes/status/204`)
    expect([empty.status, empty.headers.get("content-length"), empty.headers.get("x-second")]).toEqual([
      204,
      null,
      "204",
    ])

    // An event stream is not held: its events arrive one by one, unhooked.
    const before = seen.length
    const sse = await fetch(`${h.url}/api/notes/sse?step`)
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^data: \{"n":0/)
    await fetch(`${h.url}/api/notes/next`)
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^data: \{"n":1/)
    await reader.cancel()
    // Over 1 MiB (no content-length): what came is sent, the rest streams, intact and unhooked.
    const big = await fetch(`${h.url}/api/notes/big?bytes=${3 * 1024 * 1024 + 5}`)
    expect(big.headers.get("x-second")).toBe(null)
    expect((await big.arrayBuffer()).byteLength).toBe(3 * 1024 * 1024 + 5)
    expect(seen.slice(before)).toEqual(["GET /api/notes/next 200"])
  })
})
