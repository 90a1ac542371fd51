// The dashboard in Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core;
// playwright-core needs its own patched Firefox) against the real `sam start` daemon: the login
// link, every unit with its state, the dependency graph, a SIGKILLed unit coming back live, a
// restart from its button, the live log tail, a phone's width, and no console error. The full
// story runs in Chromium (browser.test.ts); this one holds the parts that depend on the engine.
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import puppeteer, { type Browser, type Page } from "puppeteer-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot } from "../cli/runSam.ts"
import { type Daemon, type Project, project } from "../support/daemon.ts"
import { dashboardServices, loginLink } from "../support/dashboardStory.ts"

const firefoxPath = "/usr/bin/firefox-esr"
const token = "ops-firefox-5d2c8e1a7b"
const artifacts = join(repoRoot, "test-artifacts")

let p: Project
let sam: Daemon
let url: string
let browser: Browser
let page: Page
const problems: string[] = []

const attribute = (id: string, name: string): Promise<string> =>
  page.$eval(`[data-unit="${id}"]`, (el, attr) => el.getAttribute(attr) ?? "", name)

/**
 * Resolves once `predicate` (run in the page) holds, checked every 50 ms up to `timeoutMs`.
 * Not page.waitForFunction: its poller builds the predicate with Function(), which Firefox ESR 140
 * blocks under the dashboard's CSP (no 'unsafe-eval'); page.evaluate is not affected.
 */
const waitInPage = async <A extends unknown[]>(
  predicate: (...args: A) => boolean,
  args: A,
  what: string,
  timeoutMs = 15_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // (The page gets plain values only: strings and numbers, as the callers pass.)
    if (await page.evaluate(predicate as (...values: unknown[]) => boolean, ...args)) return
    if (Date.now() > deadline) throw new Error(`the page did not show ${what} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Resolves once the page shows `id` with attribute `name` satisfying the regular expression. */
const until = async (id: string, name: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> => {
  await waitInPage(
    (sel: string, attr: string, source: string) =>
      new RegExp(source).test(document.querySelector(sel)?.getAttribute(attr) ?? ""),
    [`[data-unit="${id}"]`, name, pattern.source],
    `${id} with ${name} matching ${pattern}`,
    timeoutMs,
  )
  return attribute(id, name)
}

/**
 * page.setViewport without failing on the screen-orientation override that puppeteer-core 25
 * sends with it and Firefox ESR 140 does not know ("unknown command"): the viewport command itself
 * goes through, which the page's own size then shows.
 */
const setViewport = async (width: number, height: number): Promise<void> => {
  try {
    await page.setViewport({ width, height })
  } catch (error) {
    if (!String(error).includes("setScreenOrientationOverride")) throw error
  }
  await waitInPage(
    (w: number, h: number) => window.innerWidth === w && window.innerHeight === h,
    [width, height],
    `a ${width}×${height} viewport`,
  )
}

beforeAll(async () => {
  p = project()
  p.writeConfig({
    security: { api_tokens: { ops: { token, role: "operator" } } },
    services: dashboardServices(500),
  })
  sam = await p.start([], { SAM_TOKEN: token })
  await sam.waitForOutput("press Ctrl+C")
  url = (/control API on (http:\/\/\S+)/.exec(sam.output())?.[1] ?? "").replace(/\/$/, "")
  mkdirSync(artifacts, { recursive: true })
  browser = await puppeteer.launch({ browser: "firefox", executablePath: firefoxPath, headless: true })
  page = await browser.newPage()
  await setViewport(1280, 800)
  page.on("pageerror", (error) => problems.push(`page error: ${String(error)}`))
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`)
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  expect(await p.cleanup()).toEqual([])
})

describe("the dashboard in Firefox", () => {
  it("is driven by the Debian firefox-esr that .ci/run installs", async () => {
    expect(existsSync(firefoxPath)).toBe(true)
    expect(await browser.version()).toMatch(/^firefox\//i)
  })

  it("signs in with the login link and lists every unit with its state and pid", async () => {
    await page.goto(await loginLink(p.dir, token, url))
    // The session cookie is set and the token is gone from the address bar.
    expect(page.url()).toBe(`${url}/`)
    await page.waitForSelector('[data-connection="live"]')
    for (const id of ["db", "api"]) await until(id, "data-state", /^running$/)
    expect(
      await page.$$eval("[data-unit]", (els) => els.map((e) => e.getAttribute("data-unit")).sort()),
    ).toEqual(["api", "db"])
    expect(Number(await attribute("db", "data-pid"))).toBeGreaterThan(0)
    await page.waitForSelector('[data-role="operator"]')
  })

  it("draws the dependency graph", async () => {
    await waitInPage(
      () => document.querySelectorAll("svg.graph [data-node]").length === 2,
      [],
      "two graph nodes",
    )
    expect(
      await page.$$eval("svg.graph [data-edge]", (els) => els.map((e) => e.getAttribute("data-edge"))),
    ).toEqual(["api->db"])
  })

  it("shows a unit SIGKILLed from outside coming back, live: restarts go up, a new pid", async () => {
    const before = Number(await attribute("api", "data-restarts"))
    const pid = await attribute("api", "data-pid")
    process.kill(Number(pid), "SIGKILL")
    await until("api", "data-restarts", new RegExp(`^${before + 1}$`))
    const next = await until("api", "data-pid", new RegExp(`^(?!${pid}$)\\d+$`))
    p.pids.add(Number(next))
    await until("api", "data-state", /^running$/)
  })

  it("restarts a unit from its button and says the result", async () => {
    const pid = await attribute("db", "data-pid")
    // A restart asks first: `confirm restart?`, then it runs.
    await page.click('[data-unit="db"] [data-action="restart"]')
    await page.click('[data-unit="db"] [data-action="restart"][data-confirm]')
    const next = await until("db", "data-pid", new RegExp(`^(?!${pid}$)\\d+$`))
    p.pids.add(Number(next))
    await page.waitForSelector('[data-notice="ok"][data-notice-unit="db"]')
    await until("db", "data-ready", /^true$/)
  })

  it("tails the selected unit's log live", async () => {
    await page.click('svg.graph [data-node="api"]')
    await page.waitForSelector('[data-log="api"] .log-line')
    const count = await page.$$eval('[data-log="api"] .log-line', (lines) => lines.length)
    // chatty.mjs ticks every 500 ms: new lines arrive without a reload.
    await waitInPage(
      (n: number) => document.querySelectorAll('[data-log="api"] .log-line').length > n,
      [count],
      `more than ${count} log lines`,
    )
    await page.screenshot({ path: join(artifacts, "dashboard-firefox-1280x800.png") })
  })

  it("fits a phone's width", async () => {
    await setViewport(390, 844)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await page.screenshot({ path: join(artifacts, "dashboard-firefox-phone.png") })
  })

  it("logged no errors in the console", () => {
    expect(problems).toEqual([])
  })
})
