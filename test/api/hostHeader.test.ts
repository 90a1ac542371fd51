// DNS rebinding: a SAM on loopback answers only requests addressed to a loopback name. A website
// whose name an attacker re-resolves to 127.0.0.1 would otherwise be "same-origin" with itself
// while talking to SAM, and drive its services (gateway.auth is none on loopback) or its API.
// Over raw HTTP (any Host), then in Chromium with a name mapped to 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { hostRefusal } from "../../src/api/hostCheck.ts"
import { launchChromium } from "../support/chromium.ts"
import { type GatewayHarness, LOCAL_TEST_TOKEN, startGateway, upstream } from "../support/gateway.ts"

let h: GatewayHarness | undefined
afterEach(async () => {
  const errors = h?.errors ?? []
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
  expect(errors).toEqual([])
})

const start = async () => {
  h = await startGateway([upstream("web")])
  await h.routable("web", 1)
  return h
}

/** One request to the server at `url` with this Host header (fetch will not send another's). */
const withHost = (
  url: string,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
) =>
  new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: options.method ?? "GET",
      headers: { host, authorization: `Bearer ${LOCAL_TEST_TOKEN}`, ...options.headers },
    })
    req.on("response", (response) => {
      let body = ""
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString()
      })
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, type: response.headers["content-type"], body }),
      )
    })
    req.on("error", reject)
    req.end(options.body)
  })

describe("the Host rule on a loopback SAM", () => {
  it("refuses a Host that is no loopback name, for the API, the dashboard and the gateway, with a 421 naming it", async () => {
    const { url, server } = await start()
    const evil = `evil.example:${server.port}`
    for (const path of ["/api/status", "/api/session", "/", `/?token=${LOCAL_TEST_TOKEN}`, "/api/web/echo"]) {
      const answer = await withHost(url, evil, path)
      expect(answer.status, path).toBe(421)
      expect(answer.type).toBe("application/problem+json")
      expect(JSON.parse(answer.body)).toMatchObject({
        type: "urn:sam:problem:host-not-allowed",
        title: "Misdirected Request",
        status: 421,
        host: evil,
        detail: expect.stringMatching(/not Host "evil\.example:\d+".*\(DNS rebinding\)/),
      })
    }
    // A change with an Origin that matches the Host, as a rebound page sends it: refused too.
    const stop = await withHost(url, evil, "/api/services/web/stop", {
      method: "POST",
      headers: { origin: `http://${evil}`, "content-type": "application/json" },
      body: "null",
    })
    expect(stop.status).toBe(421)
    const post = await withHost(url, evil, "/api/web/echo", {
      method: "POST",
      headers: { origin: `http://${evil}` },
      body: "x",
    })
    expect(post.status).toBe(421)
    // Without its port, and a name that only starts like a loopback one.
    expect((await withHost(url, "evil.example", "/api/web/echo")).status).toBe(421)
    expect((await withHost(url, `127.0.0.1.evil.example:${server.port}`, "/api/status")).status).toBe(421)
    expect(h?.sam.services.status("web").state).toBe("running")
  })

  it("refuses a WebSocket upgrade to the gateway with such a Host", async () => {
    const { url, server } = await start()
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/web/ws`, {
        headers: {
          host: `evil.example:${server.port}`,
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      })
      req.on("upgrade", (_response, socket) => {
        socket.destroy()
        reject(new Error("upgraded"))
      })
      req.on("response", (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      req.on("error", reject)
      req.end()
    })
    expect(answer).toBe(421)
  })

  it("answers 127.0.0.1, localhost and [::1], with the port or without", async () => {
    const { url, server } = await start()
    for (const host of [
      `127.0.0.1:${server.port}`,
      "127.0.0.1",
      `localhost:${server.port}`,
      "localhost",
      "LocalHost",
      `[::1]:${server.port}`,
      `127.0.0.2:${server.port}`,
    ]) {
      expect((await withHost(url, host, "/api/status")).status, host).toBe(200)
      expect((await withHost(url, host, "/api/web/whoami")).status, host).toBe(200)
    }
  })

  it("a SAM bound off loopback keeps accepting any Host (it needs tokens there, and its gateway defaults to auth: token)", () => {
    expect(hostRefusal("evil.example:7070", "0.0.0.0")).toBeUndefined()
    expect(hostRefusal("evil.example", "192.168.1.20")).toBeUndefined()
    expect(hostRefusal("evil.example", "127.0.0.1")).toContain("DNS rebinding")
    expect(hostRefusal("evil.example", "::1")).toContain("DNS rebinding")
    // The configured api.host is accepted as it is written.
    expect(hostRefusal("localhost:7070", "localhost")).toBeUndefined()
    expect(hostRefusal("[::1]:7070", "::1")).toBeUndefined()
    // HTTP/1.0 without a Host: no browser sends that.
    expect(hostRefusal(undefined, "127.0.0.1")).toBeUndefined()
  })
})

describe("DNS rebinding in Chromium", () => {
  it("a page under a name resolved to 127.0.0.1 gets the 421, not the service or the dashboard", async () => {
    const { url, server } = await start()
    const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
    const browser = await launchChromium(profile, {
      // What a rebinding DNS server does: the attacker's name now points at this machine.
      extraArgs: ["--host-resolver-rules=MAP evil.example 127.0.0.1"],
    })
    try {
      const page = await browser.newPage()
      const rebound = `http://evil.example:${server.port}`
      const service = await page.goto(`${rebound}/api/web/whoami`)
      expect(service?.status()).toBe(421)
      expect(await page.textContent("body")).toContain("DNS rebinding")
      const seen = await page.evaluate(async () => {
        const post = await fetch("/api/web/echo", { method: "POST", body: "x" })
        return post.status
      })
      expect(seen).toBe(421)
      expect((await page.goto(`${rebound}/?token=${LOCAL_TEST_TOKEN}`))?.status()).toBe(421)
      // The same browser by SAM's own names works.
      expect((await page.goto(`${url}/api/web/whoami`))?.status()).toBe(200)
      expect((await page.goto(`http://localhost:${server.port}/api/web/whoami`))?.status()).toBe(200)
    } finally {
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })
})
