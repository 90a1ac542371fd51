import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
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
})
