// A service of several instances on the dashboard, in Chromium against the real `sam start`
// daemon: its card lists each instance (`web#0`, `web#1`: state, pid, port, uptime, restarts, as
// the API's per_instance has them), reads `degraded: 1 of 2 in backoff` while one SIGKILLed
// instance waits to restart and the other serves (as `sam ps` says it), and recovers; a service
// the gateway routes has a requests/s sparkline and figure, live from the event stream's usage
// samples and seeded from the metrics history; one the gateway does not route has none.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot } from "../cli/runSam.ts"
import { fixturePath } from "../support/daemon.ts"
import { type DashboardSession, openDashboard } from "../support/dashboardStory.ts"

const token = "ops-instances-5a9c2e7b1d"
const artifacts = join(repoRoot, "test-artifacts")

let session: DashboardSession
let url: string
let page: Page
let problems: ReadonlyArray<string> = []

const unit = (id: string) => page.locator(`[data-unit="${id}"]`)
const row = (id: string, n: number) => unit(id).locator(`[data-instance="${n}"]`)
const waitFor = (selector: string, timeout = 15_000) => page.waitForSelector(selector, { timeout })

interface InstanceView {
  readonly instance: number
  readonly status: string
  readonly ready: boolean
  readonly pid: number | null
  readonly port: number | null
}

/** The API's view of service `id`, read with the operator's token. */
const serviceView = async (id: string) => {
  const answer = await fetch(`${url}/api/services/${id}`, { headers: { authorization: `Bearer ${token}` } })
  expect(answer.status).toBe(200)
  return (await answer.json()) as { status: string; pid: number | null; per_instance: InstanceView[] }
}

/** Requests through the gateway to `web`, each answered by one of its instances. */
const throughGateway = async (n: number) => {
  for (let i = 0; i < n; i++) expect((await fetch(`${url}/api/web/whoami`)).status).toBe(200)
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  session = await openDashboard(token, {
    web: {
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
      health_check: { endpoint: "/health", interval_seconds: 0.5, timeout_seconds: 1 },
      scaling: { min_instances: 2, max_instances: 2 },
      // Long enough to see the card degraded before the killed instance comes back.
      restart_policy: { type: "always", backoff_seconds: 4 },
    },
    quiet: {
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
      gateway: { enabled: false },
    },
  })
  ;({ url, page, problems } = session)
}, 60_000)

afterAll(() => session?.close())

describe("a service of several instances on the dashboard", () => {
  it("lists each instance in its card, with its own state, pid and port; no figure of the card mixes them", async () => {
    await waitFor('[data-unit="web"][data-ready="true"]')
    await waitFor('[data-unit="web"] [data-instance="1"][data-ready="true"]')
    const view = await serviceView("web")
    expect(view.per_instance).toHaveLength(2)
    for (const i of view.per_instance) {
      const r = row("web", i.instance)
      expect(await r.getAttribute("data-pid")).toBe(String(i.pid))
      expect(await r.locator("th").textContent()).toBe(`web#${i.instance}`)
      expect(await r.locator("td").allTextContents()).toEqual([
        expect.stringContaining("ready"),
        String(i.pid),
        String(i.port),
        expect.stringMatching(/^\d+s$/),
        "0",
      ])
    }
    // The card's own figures are the unit's (restarts, instances, how many ready): one instance's
    // pid and another's uptime are on their rows only. data-pid stays instance 0's, as documented.
    expect(await unit("web").locator(".facts dt").allTextContents()).toEqual([
      "restarts",
      "instances",
      "ready",
    ])
    expect(await unit("web").locator(".facts dd").nth(2).textContent()).toBe("2 of 2")
    expect(await unit("web").getAttribute("data-pid")).toBe(String(view.per_instance[0]?.pid))
    expect(await unit("web").getAttribute("data-degraded")).toBe("false")
    // A unit of one instance has no list, and its pid and uptime on the card.
    await waitFor('[data-unit="quiet"][data-state="running"]')
    expect(await unit("quiet").locator("[data-instance]").count()).toBe(0)
    expect(await unit("quiet").locator(".facts dt").allTextContents()).toEqual([
      "restarts",
      "uptime",
      "pid",
      "instances",
    ])
  })

  it("draws the gateway's requests per second of a routed service, live, and none for one not routed", async () => {
    const spark = '[data-unit="web"] [data-sparkline="requests"]'
    expect(await unit("quiet").locator('[data-sparkline="requests"]').count()).toBe(0)
    expect(await unit("quiet").locator('[data-sparkline="cpu"]').count()).toBe(1)
    // Live samples come in (every 2 s), at no request yet.
    await page.waitForFunction(
      (sel) => Number(document.querySelector(sel)?.getAttribute("data-points")) >= 2,
      spark,
    )
    expect(await unit("web").locator("[data-requests-now]").textContent()).toBe("0/s")
    // Requests through the gateway: the figure the next samples bring is above zero (the page read
    // the history once, when it opened: only the live samples can say it).
    await throughGateway(40)
    await page.waitForFunction(
      (sel) => !["0/s", "—"].includes(document.querySelector(sel)?.textContent ?? "0/s"),
      '[data-unit="web"] [data-requests-now]',
      { timeout: 10_000 },
    )
    expect(await unit("web").locator("[data-requests-now]").textContent()).toMatch(/^\d+(\.\d)?\/s$/)
    expect(await unit("web").locator(`[data-sparkline="requests"] polyline`).count()).toBe(1)
  })

  it("reads degraded while one instance SIGKILLed waits in backoff and the other serves, then recovers", async () => {
    const before = await serviceView("web")
    const killed = before.per_instance[0]?.pid as number
    expect(killed).toBeGreaterThan(0)
    process.kill(killed, "SIGKILL")
    await waitFor('[data-unit="web"][data-degraded="true"]')
    // The API's status stays the worst instance's (data-state, for compatibility); the card says how much.
    expect(await unit("web").getAttribute("data-state")).toBe("backoff")
    expect(await unit("web").locator(".badge").textContent()).toBe("degraded: 1 of 2 in backoff")
    expect(await unit("web").locator(".badge").getAttribute("class")).toContain("tone-warn")
    // The header counts it degraded, not failing: it still serves.
    expect(await page.locator('[data-count="degraded"] strong').textContent()).toBe("1")
    expect(await page.locator('[data-count="failing"]').count()).toBe(0)
    expect(await row("web", 0).getAttribute("data-state")).toBe("backoff")
    expect(await row("web", 0).getAttribute("data-pid")).toBe("")
    expect(await row("web", 1).getAttribute("data-state")).toBe("running")
    expect(await row("web", 1).getAttribute("data-ready")).toBe("true")
    expect(await unit("web").locator(".facts dd").nth(2).textContent()).toBe("1 of 2")
    expect(await unit("web").locator(".reason").textContent()).toMatch(/^web#0: /)
    // Meanwhile web#1 serves the gateway's requests.
    await throughGateway(3)
    await unit("web").screenshot({ path: join(artifacts, "dashboard-degraded.png") })

    await waitFor('[data-unit="web"][data-degraded="false"][data-ready="true"]', 20_000)
    const after = await serviceView("web")
    const next = after.per_instance[0]?.pid as number
    session.p.pids.add(next)
    expect(next).not.toBe(killed)
    expect(await row("web", 0).getAttribute("data-pid")).toBe(String(next))
    expect(await row("web", 0).locator("td").last().textContent()).toBe("1")
    expect(await unit("web").locator(".badge").textContent()).toBe("ready")
  })

  it("starts the requests sparkline from the metrics history on a page opened later", async () => {
    // The history keeps a point every 5 s: wait (bounded) until one counted the requests above.
    const historyOf = () =>
      page.evaluate(async () => {
        const answer = await fetch("/api/services/web/metrics", { credentials: "same-origin" })
        const body = (await answer.json()) as { series: { requests_per_second: Array<[number, number]> } }
        return body.series.requests_per_second
      })
    const deadline = Date.now() + 20_000
    while (!(await historyOf()).some(([, v]) => v > 0)) {
      if (Date.now() > deadline) throw new Error("web's history counted no request after 20 s")
      await page.waitForTimeout(1_000)
    }
    const loaded = Date.now()
    await page.reload()
    await waitFor('[data-connection="live"]')
    const spark = '[data-unit="web"] [data-sparkline="requests"]'
    await page.waitForFunction(
      (sel) => Number(document.querySelector(sel)?.getAttribute("data-points")) >= 2,
      spark,
    )
    expect(Date.parse((await page.locator(spark).getAttribute("data-from")) ?? "")).toBeLessThan(
      loaded - 5_000,
    )
  })

  it("fits a phone's width with the instance list, and logged no errors", async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await unit("web").screenshot({ path: join(artifacts, "dashboard-instances-phone.png") })
    await page.setViewportSize({ width: 1280, height: 800 })
    expect(problems).toEqual([])
  })
})
