// Services share SAM's origin (/api/<id>/ on the dashboard's host and port), so the gateway keeps
// the browser's SAM session out of their reach: SAM's session cookies never reach a service and
// none may set them, and a service's answers are sandboxed (an opaque origin) unless it opts out
// with gateway.browser_isolation: false. Over HTTP first, then a hostile page in Chromium.
import { mkdtempSync, rmSync } from "node:fs"
import { type IncomingHttpHeaders, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { launchChromium } from "../support/chromium.ts"
import { type GatewayHarness, LOCAL_TEST_TOKEN, startGateway, upstream } from "../support/gateway.ts"

/** What the docs promise a service's answer gets (docs/GATEWAY.md). */
const SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals"

let h: GatewayHarness | undefined
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
})

/** A SAM with `web` (isolated by default), `trusted` (browser_isolation: false) and `victim`. */
const start = async () => {
  h = await startGateway([
    upstream("web", { gateway: { cache: { enabled: true } } }),
    upstream("trusted", { gateway: { browserIsolation: false } }),
    upstream("victim"),
  ])
  await Promise.all(["web", "trusted", "victim"].map((id) => h?.routable(id, 1)))
  return h
}

/** Sign in with the login link: the session cookie as `name=value`. */
const signIn = async (url: string): Promise<string> => {
  const response = await fetch(`${url}/?token=${LOCAL_TEST_TOKEN}`, { redirect: "manual" })
  return (response.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
}

/** A WebSocket upgrade through the gateway, raw: the 101's headers. */
const upgrade = (url: string, path: string, headers: Record<string, string>) =>
  new Promise<IncomingHttpHeaders>((resolve, reject) => {
    const req = request(`${url}${path}`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    })
    req.on("upgrade", (response, socket) => {
      socket.destroy()
      resolve(response.headers)
    })
    req.on("response", (response) => reject(new Error(`no upgrade: ${response.statusCode}`)))
    req.on("error", reject)
    req.end()
  })

describe("SAM's session cookie and the services behind the gateway", () => {
  it("a service never sees SAM's session cookies (this SAM's or another's), only its own", async () => {
    const { url, server } = await start()
    const session = await signIn(url)
    expect(session).toMatch(new RegExp(`^sam_session_${server.port}=`))
    const echo = async (service: string, cookie: string) =>
      (
        (await (await fetch(`${url}/api/${service}/echo`, { headers: { cookie } })).json()) as {
          headers: Record<string, string>
        }
      ).headers

    const mixed = `service_pref=dark; ${session}; sam_session_7070=another-sams; other=1`
    expect((await echo("web", mixed)).cookie).toBe("service_pref=dark; other=1")
    // Whatever the service's browser_isolation: this is not the browser's to give away.
    expect((await echo("trusted", mixed)).cookie).toBe("service_pref=dark; other=1")
    // Nothing left: no Cookie header at all.
    expect(await echo("web", session)).not.toHaveProperty("cookie")
    // A WebSocket upgrade the same.
    const seen = await upgrade(url, "/api/web/ws", { cookie: mixed })
    expect(seen["x-seen-cookie"]).toBe("service_pref=dark; other=1")
  })

  it("a service's Set-Cookie naming SAM's session cookie is dropped; its own cookies pass", async () => {
    const { url, server } = await start()
    const name = `sam_session_${server.port}`
    for (const service of ["web", "trusted"]) {
      const response = await fetch(`${url}/api/${service}/page?sam_cookie=${name}`)
      expect(response.status).toBe(200)
      expect(response.headers.getSetCookie()).toEqual(["service_pref=dark; Path=/"])
    }
    // Another SAM's on this host neither.
    const other = await fetch(`${url}/api/web/page?sam_cookie=sam_session_7070`)
    expect(other.headers.getSetCookie()).toEqual(["service_pref=dark; Path=/"])
    const ws = await upgrade(url, `/api/web/ws?set_cookie=${name}`, {})
    expect(ws["set-cookie"]).toEqual(["service_ws=1"])
    // Nor what acts on the whole origin: wiping SAM's cookies, a service worker over SAM's pages.
    for (const service of ["web", "trusted"]) {
      const response = await fetch(`${url}/api/${service}/page`)
      expect(response.headers.get("clear-site-data")).toBeNull()
      expect(response.headers.get("service-worker-allowed")).toBeNull()
    }
  })

  it("every answer carries the sandbox CSP, beside the service's own, unless browser_isolation: false", async () => {
    const { url } = await start()
    const page = await fetch(`${url}/api/web/page`)
    // Two policies (the service's and SAM's), both enforced; fetch joins the lines with ", ".
    expect(page.headers.get("content-security-policy")).toBe(`img-src 'self', ${SANDBOX}`)
    const json = await fetch(`${url}/api/web/whoami`)
    expect(json.headers.get("content-security-policy")).toBe(SANDBOX)
    // A cache hit too.
    await fetch(`${url}/api/web/cached`)
    const hit = await fetch(`${url}/api/web/cached`)
    expect(hit.headers.get("x-cache")).toBe("hit")
    expect(hit.headers.get("content-security-policy")).toBe(SANDBOX)

    const trusted = await fetch(`${url}/api/trusted/page`)
    expect(trusted.headers.get("content-security-policy")).toBe("img-src 'self'")
    expect((await fetch(`${url}/api/trusted/whoami`)).headers.get("content-security-policy")).toBeNull()
  })
})

describe("a service's page in Chromium, signed in to the dashboard", () => {
  it("cannot act as the signed-in user: /api/session and a stop get 401/403, the victim runs on; with browser_isolation: false it could", async () => {
    const { url, server, sam } = await start()
    const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
    const browser = await launchChromium(profile)
    try {
      const page = await browser.newPage()
      await page.goto(`${url}/?token=${LOCAL_TEST_TOKEN}`)
      await page.waitForSelector('[data-role="admin"]')
      const cookieName = `sam_session_${server.port}`
      const signedIn = (await browser.cookies(url)).find((c) => c.name === cookieName)?.value
      expect(signedIn).toBeTruthy()

      // What the browser sent and SAM answered, as DevTools sees it (CORS hides it from the page).
      const requests = new Map<string, { method: string; path: string }>()
      const answered = new Map<string, number>()
      const sentHeaders: Array<Record<string, string>> = []
      const devtools = await browser.newCDPSession(page)
      devtools.on("Network.requestWillBeSent", (event) =>
        requests.set(event.requestId, {
          method: event.request.method,
          path: new URL(event.request.url).pathname,
        }),
      )
      devtools.on("Network.requestWillBeSentExtraInfo", (event) =>
        sentHeaders.push(event.headers as Record<string, string>),
      )
      devtools.on("Network.responseReceivedExtraInfo", (event) =>
        answered.set(event.requestId, event.statusCode),
      )
      const apiAnswers = () =>
        [...answered]
          .map(([id, status]) => ({ ...requests.get(id), status }))
          .filter((a) => a.path === "/api/session" || a.path?.endsWith("/stop"))
      await devtools.send("Network.enable")
      await page.goto(`${url}/api/web/page?sam_cookie=${cookieName}&stop=/api/services/victim/stop`)
      await page.waitForFunction(() => "pageResult" in window)
      const result = (await page.evaluate(
        () => (window as unknown as { pageResult: unknown }).pageResult,
      )) as Record<string, unknown>
      // An opaque origin: no cookies to read, and SAM's answers are cross-origin ones it cannot read.
      expect(result.origin).toBe("null")
      expect(result.cookie).toEqual({ error: "SecurityError" })
      expect(result.storage).toEqual({ error: "SecurityError" })
      // Its own paths are another origin to it now: without CORS headers of the service, unreadable.
      expect(result.own).toEqual({ error: expect.stringContaining("TypeError") })
      expect(result.ownCors).toMatchObject({ status: 200, body: expect.stringContaining('"instance":"0"') })
      // Module scripts too (docs/GATEWAY.md): they load only with the service's CORS headers.
      expect(result.module).toEqual({ error: expect.stringContaining("TypeError") })
      expect(result.moduleCors).toEqual({ value: 42 })
      expect(result.session).toEqual({ error: expect.stringContaining("TypeError") })
      expect(result.stop).toEqual({ error: expect.stringContaining("TypeError") })
      expect(result.stopNoCors).toEqual({ status: 0, body: "" })
      // The GET and the no-cors POST reached SAM without its cookie and got 401; the JSON POST
      // stopped at its preflight (405: SAM answers no CORS preflight) and was never sent.
      await expect.poll(apiAnswers).toEqual([
        { method: "GET", path: "/api/session", status: 401 },
        { method: "OPTIONS", path: "/api/services/victim/stop", status: 405 },
        { method: "POST", path: "/api/services/victim/stop", status: 401 },
      ])
      const fromPage = sentHeaders.filter((headers) => headers.Origin === "null")
      expect(fromPage.length).toBeGreaterThanOrEqual(2)
      for (const headers of fromPage) expect(headers.Cookie ?? "").not.toContain("sam_session_")
      expect(sam.services.status("victim").state).toBe("running")
      expect(sam.services.status("victim").restarts).toBe(0)
      // The service's Set-Cookie of SAM's cookie never reached the browser; its own did.
      const cookies = await browser.cookies(url)
      expect(cookies.find((c) => c.name === cookieName)?.value).toBe(signedIn)
      expect(cookies.find((c) => c.name === "service_pref")?.value).toBe("dark")

      // What the sandbox allows: dialogs, downloads, forms, and popups, which are sandboxed too
      // (the dashboard opened from it has no origin to use the session from).
      const dialog = page.waitForEvent("dialog")
      void page.evaluate(() => alert("hello"))
      await (await dialog).accept()
      const download = page.waitForEvent("download")
      await page.evaluate(() => {
        const link = Object.assign(document.createElement("a"), {
          id: "save",
          href: "download",
          textContent: "save",
        })
        document.body.append(link)
      })
      await page.click("#save")
      expect((await download).suggestedFilename()).toBe("notes.txt")
      const popup = page.waitForEvent("popup")
      await page.evaluate((dashboard) => window.open(dashboard), `${url}/`)
      const opened = await popup
      await opened.waitForLoadState()
      expect(await opened.evaluate(() => self.origin)).toBe("null")
      await opened.close()
      await Promise.all([
        page.waitForURL(`${url}/api/web/echo`),
        page.evaluate(() => {
          const form = Object.assign(document.createElement("form"), { method: "post", action: "echo" })
          form.append(Object.assign(document.createElement("input"), { name: "q", value: "1" }))
          document.body.append(form)
          form.submit()
        }),
      ])
      expect(JSON.parse((await page.textContent("body")) ?? "{}")).toMatchObject({
        method: "POST",
        body: "q=1",
      })

      // The trade-off: a service with browser_isolation: false runs in SAM's origin, as the user.
      await page.goto(`${url}/api/trusted/page`)
      await page.waitForFunction(() => "pageResult" in window)
      const trusted = (await page.evaluate(
        () => (window as unknown as { pageResult: unknown }).pageResult,
      )) as Record<string, unknown>
      expect(trusted.origin).toBe(url)
      expect(trusted.module).toEqual({ value: 42 })
      expect(trusted.session).toEqual({ status: 200, body: '{"name":"local","role":"admin"}' })
    } finally {
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })
})
