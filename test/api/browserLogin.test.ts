// Signing a browser in: the login link `/?token=…` sets an HttpOnly, SameSite=Strict session
// cookie and redirects to `/` without the token; the cookie authenticates the page's fetch and
// EventSource calls; a change authenticated by the cookie must come from SAM's own origin (CSRF).
// First over plain HTTP, then in the real Chromium (playwright-core, /usr/bin/chromium).
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { launchChromium } from "../support/chromium.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { type ApiHarness, startApi } from "./apiHarness.ts"

const open: ApiHarness[] = []
const harness = async () => {
  const h = await startApi([nodeService("db", "http-service.mjs", { probes: [httpCheck()] })])
  open.push(h)
  return h
}
afterEach(async () => {
  for (const h of open.splice(0)) {
    expect(await h.close()).toEqual([])
    expect(h.errors).toEqual([])
  }
})

/** Sign in with `token`: the cookie pair (`name=value`) the login link set, and the raw header. */
const signIn = async (h: ApiHarness, token: string) => {
  const response = await fetch(`${h.url}/?token=${encodeURIComponent(token)}`, { redirect: "manual" })
  const header = response.headers.get("set-cookie") ?? ""
  return { response, header, cookie: header.split(";")[0] ?? "" }
}

describe("the login link, over HTTP", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie and redirects to / without the token", async () => {
    const h = await harness()
    const { response, header, cookie } = await signIn(h, h.token("admin") as string)
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe("/")
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(response.headers.get("referrer-policy")).toBe("no-referrer")
    expect(header).toMatch(
      new RegExp(
        `^sam_session_${h.server.port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`,
      ),
    )
    expect(header).not.toContain(h.token("admin"))

    const page = await fetch(`${h.url}/`, { headers: { cookie } })
    // Signed in, / is the dashboard (test/dashboard/ has its own story).
    expect(await page.text()).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/)
    const status = await fetch(`${h.url}/api/status`, { headers: { cookie } })
    expect(status.status).toBe(200)
    expect(await status.json()).toMatchObject({ services: { running: 1 } })
  })

  it("the login link opened from another site (Sec-Fetch-Site cross-site or same-site) is a 403 and sets no cookie", async () => {
    const h = await harness()
    const open = (site: string | undefined) =>
      fetch(`${h.url}/?token=${encodeURIComponent(h.token("admin") as string)}`, {
        redirect: "manual",
        headers: site === undefined ? {} : { "sec-fetch-site": site },
      })
    // Another site could otherwise sign the browser into a session of its choosing (login CSRF).
    for (const site of ["cross-site", "same-site", "Cross-Site"]) {
      const refused = await open(site)
      expect(refused.status).toBe(403)
      expect(refused.headers.get("set-cookie")).toBeNull()
      expect(refused.headers.get("content-type")).toBe("application/problem+json")
      expect(await refused.json()).toMatchObject({
        type: "urn:sam:problem:cross-site",
        detail: expect.stringContaining(`Sec-Fetch-Site: ${site}`),
      })
    }
    // Typed or pasted into the address bar (none), from SAM's own page, or from a client that sends no such header.
    for (const site of ["none", "same-origin", undefined]) {
      const accepted = await open(site)
      expect(accepted.status).toBe(303)
      expect(accepted.headers.get("set-cookie")).toMatch(new RegExp(`^sam_session_${h.server.port}=`))
    }
  })

  it("without a session, / is a token form showing nothing of SAM; a wrong token is a 401 form", async () => {
    const h = await harness()
    const form = await fetch(`${h.url}/`)
    expect(form.status).toBe(200)
    const text = await form.text()
    expect(text).toContain('<form method="post" action="/">')
    expect(text).not.toMatch(/db|Signed in|running/)
    expect(form.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")

    const wrong = await signIn(h, "not-a-token-of-this-sam")
    expect(wrong.response.status).toBe(401)
    expect(wrong.header).toBe("")
    expect(await wrong.response.text()).toContain("That is not a token of this SAM.")
    const forged = await fetch(`${h.url}/api/status`, {
      headers: { cookie: `sam_session_${h.server.port}=forged-session-id` },
    })
    expect(forged.status).toBe(401)
    expect((await forged.json()).detail).toContain("the session cookie is not valid")
    expect((await fetch(`${h.url}/`, { method: "PUT" })).headers.get("allow")).toBe("GET, HEAD, POST")
  })

  it("the token form POSTs its token: a session as with the link, a wrong one the form again, only from SAM's own page", async () => {
    const h = await harness()
    const post = (token: string, origin: string | null = h.url) =>
      fetch(`${h.url}/`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(origin === null ? {} : { origin }),
        },
        body: new URLSearchParams({ token }).toString(),
      })
    const right = await post(h.token("ops") as string)
    expect(right.status).toBe(303)
    expect(right.headers.get("location")).toBe("/")
    const cookie = (right.headers.get("set-cookie") ?? "").split(";")[0] ?? ""
    expect(cookie).toMatch(new RegExp(`^sam_session_${h.server.port}=[A-Za-z0-9_-]{43}$`))
    expect(await (await fetch(`${h.url}/api/session`, { headers: { cookie } })).json()).toEqual({
      name: "ops",
      role: "operator",
    })
    // The media type is case-insensitive and may carry parameters.
    const typed = await fetch(`${h.url}/`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "Application/X-WWW-Form-URLEncoded; charset=UTF-8", origin: h.url },
      body: new URLSearchParams({ token: h.token("ops") as string }).toString(),
    })
    expect(typed.status).toBe(303)
    expect(typed.headers.get("set-cookie")).toMatch(new RegExp(`^sam_session_${h.server.port}=`))
    const wrong = await post("not-a-token-of-this-sam")
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get("set-cookie")).toBeNull()
    expect(await wrong.text()).toContain("That is not a token of this SAM.")
    // Another page (another port of 127.0.0.1 is the same site) cannot sign the browser in.
    for (const origin of ["http://127.0.0.1:1", null]) {
      const forged = await post(h.token("ops") as string, origin)
      expect(forged.status).toBe(403)
      expect(forged.headers.get("set-cookie")).toBeNull()
      expect((await forged.json()).type).toBe("urn:sam:problem:cross-site")
    }
  })

  it("a change made with the cookie must carry SAM's own Origin; a bearer token needs none", async () => {
    const h = await harness()
    const { cookie } = await signIn(h, h.token("ops") as string)
    const restart = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/services/db/restart`, { method: "POST", headers: { cookie, ...headers } })

    const bare = await restart({})
    expect(bare.status).toBe(403)
    expect(await bare.json()).toMatchObject({
      type: "urn:sam:problem:cross-site",
      detail: expect.stringContaining("not a request without an Origin header"),
    })
    // Another port of the same host is the same *site*: SameSite lets the cookie through, Origin does not.
    const sibling = await restart({ origin: "http://127.0.0.1:1" })
    expect(sibling.status).toBe(403)
    expect((await sibling.json()).detail).toContain("not Origin http://127.0.0.1:1")
    expect(h.sam.services.status("db").restarts).toBe(0)

    const own = await restart({ origin: h.url })
    expect(own.status).toBe(200)
    // The session has the role of the token that signed in.
    const { cookie: viewer } = await signIn(h, h.token("watcher") as string)
    const reload = await fetch(`${h.url}/api/config/reload`, {
      method: "POST",
      headers: { cookie: viewer, origin: h.url },
    })
    expect(reload.status).toBe(403)
    expect((await reload.json()).required_role).toBe("admin")

    await h.audit.settled()
    const log = readFileSync(h.audit.file, "utf8")
    expect(log).toContain(
      '"actor":{"name":"ops","role":"operator","via":"api"},"action":"service.restart","target":"db","result":"denied"',
    )
    expect(log).toContain(
      '"actor":{"name":"ops","role":"operator","via":"api"},"action":"service.restart","target":"db","result":"ok"',
    )
  })

  it("a request with several session cookies (stale and valid, in either order) is signed in by the valid one", async () => {
    const h = await harness()
    const { cookie } = await signIn(h, h.token("ops") as string)
    const name = `sam_session_${h.server.port}`
    // A browser sends one cookie per path or domain it holds under that name: an old one may come first.
    for (const both of [`${name}=stale-session-id; ${cookie}`, `${cookie}; ${name}=stale-session-id`]) {
      const session = await fetch(`${h.url}/api/session`, { headers: { cookie: both } })
      expect(session.status).toBe(200)
      expect(await session.json()).toEqual({ name: "ops", role: "operator" })
      expect(await (await fetch(`${h.url}/`, { headers: { cookie: both } })).text()).not.toContain(
        'name="token"',
      )
      const restart = await fetch(`${h.url}/api/services/db/restart`, {
        method: "POST",
        headers: { cookie: both, origin: h.url },
      })
      expect(restart.status).toBe(200)
    }
    expect(
      (await fetch(`${h.url}/api/session`, { headers: { cookie: `${name}=a; ${name}=b` } })).status,
    ).toBe(401)
    // Signing out ends the valid session, wherever it was in the header.
    const out = await fetch(`${h.url}/api/session`, {
      method: "DELETE",
      headers: { cookie: `${name}=stale-session-id; ${cookie}`, origin: h.url },
    })
    expect(out.status).toBe(204)
    expect((await fetch(`${h.url}/api/session`, { headers: { cookie } })).status).toBe(401)
  })

  it("DELETE /api/session signs the browser out: SAM forgets the session, the cookie is cleared, a replay is a 401", async () => {
    const h = await harness()
    const { cookie } = await signIn(h, h.token("watcher") as string)
    const signOut = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/session`, { method: "DELETE", headers: { cookie, ...headers } })
    // A change made with the cookie: SAM's own Origin or nothing, as for every other change.
    const elsewhere = await signOut({ origin: "http://127.0.0.1:1" })
    expect(elsewhere.status).toBe(403)
    expect((await elsewhere.json()).type).toBe("urn:sam:problem:cross-site")
    expect((await fetch(`${h.url}/api/session`, { headers: { cookie } })).status).toBe(200)

    // Any role may sign out (a viewer here).
    const out = await signOut({ origin: h.url })
    expect(out.status).toBe(204)
    expect(out.headers.get("set-cookie")).toBe(
      `sam_session_${h.server.port}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    )
    // The old cookie, replayed, authenticates nothing: SAM no longer holds the session.
    const replay = await fetch(`${h.url}/api/status`, { headers: { cookie } })
    expect(replay.status).toBe(401)
    expect((await replay.json()).detail).toContain("the session cookie is not valid")
    expect((await signOut({ origin: h.url })).status).toBe(401)
    expect(await (await fetch(`${h.url}/`, { headers: { cookie } })).text()).toContain('name="token"')

    // A bearer token is no session: nothing to end, and it says so.
    const byToken = await h.fetch("/api/session", { as: "ops", method: "DELETE" })
    expect(byToken.status).toBe(422)
    expect(await byToken.json()).toMatchObject({
      type: "urn:sam:problem:unprocessable",
      detail: expect.stringContaining("no browser session to end"),
    })
    expect((await h.fetch("/api/session", { as: "ops" })).status).toBe(200)
    await h.audit.settled()
    expect(readFileSync(h.audit.file, "utf8")).toContain(
      '"actor":{"name":"watcher","role":"viewer","via":"api"},"action":"system.endSession","target":"/api/session","result":"denied"',
    )
  })

  it("a request with the cookie from an opaque origin (Origin: null, a sandboxed page) is refused, a read too", async () => {
    const h = await harness()
    const { cookie } = await signIn(h, h.token("admin") as string)
    const read = await fetch(`${h.url}/api/session`, { headers: { cookie, origin: "null" } })
    expect(read.status).toBe(403)
    expect(await read.json()).toMatchObject({
      type: "urn:sam:problem:cross-site",
      detail: expect.stringContaining("came from a page with an opaque origin (Origin: null"),
    })
    const stop = await fetch(`${h.url}/api/services/db/stop`, {
      method: "POST",
      headers: { cookie, origin: "null" },
    })
    expect(stop.status).toBe(403)
    expect(h.sam.services.status("db").state).toBe("running")
    // SAM's own page reads without an Origin (a same-origin GET carries none).
    expect((await fetch(`${h.url}/api/session`, { headers: { cookie } })).status).toBe(200)
    // A bearer token is no ambient credential: its Origin does not matter.
    const byToken = await h.fetch("/api/session", { as: "admin", headers: { origin: "null" } })
    expect(byToken.status).toBe(200)
  })
})

/** A page on another origin of the same host (another port): what a local attacker could serve. */
const otherOrigin = async (): Promise<{ url: string; server: Server }> => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" })
    res.end("<!doctype html><title>elsewhere</title>")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe("the login link in Chromium", () => {
  it("signs the browser in; the cookie authenticates fetch and EventSource from SAM's page, not from another origin", async () => {
    const h = await harness()
    const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
    const elsewhere = await otherOrigin()
    const browser = await launchChromium(profile)
    try {
      const page = await browser.newPage()
      await page.goto(`${h.url}/?token=${h.token("ops")}`)
      // The token left the address bar (and the history entry).
      expect(page.url()).toBe(`${h.url}/`)
      await page.waitForSelector('[data-role="operator"]')
      expect(await page.textContent(".who")).toContain("ops (operator)")
      const [cookie] = await browser.cookies(h.url)
      expect(cookie).toMatchObject({
        name: `sam_session_${h.server.port}`,
        httpOnly: true,
        sameSite: "Strict",
        path: "/",
      })

      const seen = await page.evaluate(async () => {
        const status = await fetch("/api/status")
        const snapshot = await new Promise<string>((resolve, reject) => {
          const source = new EventSource("/api/events")
          source.addEventListener("snapshot", (event) => {
            source.close()
            resolve((event as MessageEvent<string>).data)
          })
          source.onerror = () => {
            source.close()
            reject(new Error("EventSource failed"))
          }
        })
        const restart = await fetch("/api/services/db/restart", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "null",
        })
        return {
          status: status.status,
          services: ((await status.json()) as { services: { running: number } }).services.running,
          snapshot: JSON.parse(snapshot) as { services: Array<{ id: string }> },
          restart: restart.status,
          // HttpOnly: the page's script never sees the session id.
          cookie: document.cookie,
        }
      })
      expect(seen).toMatchObject({
        status: 200,
        services: 1,
        snapshot: { services: [{ id: "db" }] },
        restart: 200,
        cookie: "",
      })
      expect(h.sam.services.status("db").restarts).toBe(1)

      // A page elsewhere on 127.0.0.1 sends a "simple" POST (no preflight) with the cookie: refused.
      const attacker = await browser.newPage()
      await attacker.goto(elsewhere.url)
      await attacker.evaluate(async (target) => {
        await fetch(`${target}/api/services/db/restart`, {
          method: "POST",
          mode: "no-cors",
          credentials: "include",
        })
      }, h.url)
      await h.audit.settled()
      expect(readFileSync(h.audit.file, "utf8")).toContain(
        `"detail":"a change authenticated by a session cookie must come from SAM's own pages (Origin ${h.url}), not Origin ${elsewhere.url}`,
      )
      expect(h.sam.services.status("db").restarts).toBe(1)

      // Signing out: the header's button ends the session and shows the sign-in form.
      await page.click("[data-sign-out]")
      await page.waitForSelector('form[action="/"] input[name="token"]')
      expect(page.url()).toBe(`${h.url}/`)
      expect(await browser.cookies(h.url)).toEqual([])
      expect(await page.evaluate(async () => (await fetch("/api/status")).status)).toBe(401)
      // A token typed into the form, wrong then right, is sent in the body: it never reaches the
      // address bar nor the history.
      await page.fill('input[name="token"]', "wrong-token-typed-by-hand")
      await page.click('button[type="submit"]')
      await page.waitForSelector("text=That is not a token of this SAM.")
      expect(page.url()).toBe(`${h.url}/`)
      await page.fill('input[name="token"]', h.token("ops") as string)
      await page.click('button[type="submit"]')
      await page.waitForSelector('[data-role="operator"]')
      expect(page.url()).toBe(`${h.url}/`)
    } finally {
      await browser.close()
      await new Promise((resolve) => elsewhere.server.close(resolve))
      rmSync(profile, { recursive: true, force: true })
    }
  })
  it("a page on another port that sends the browser to the login link signs nothing in", async () => {
    const h = await harness()
    const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
    const elsewhere = await otherOrigin()
    const browser = await launchChromium(profile)
    try {
      const attacker = await browser.newPage()
      await attacker.goto(elsewhere.url)
      // Another port of 127.0.0.1 is the same site: Chromium says `Sec-Fetch-Site: same-site`.
      const landed = await Promise.all([
        attacker.waitForNavigation(),
        attacker.evaluate(
          (link) => {
            location.href = link
          },
          `${h.url}/?token=${h.token("ops")}`,
        ),
      ]).then(([response]) => response)
      expect(landed?.status()).toBe(403)
      expect(await attacker.textContent("body")).toContain("Sec-Fetch-Site: same-site")
      expect(await browser.cookies(h.url)).toEqual([])
    } finally {
      await browser.close()
      await new Promise((resolve) => elsewhere.server.close(resolve))
      rmSync(profile, { recursive: true, force: true })
    }
  })
})
