// The dashboard's controls by keyboard and screen reader, in Chromium against the real `sam start`
// daemon: every action names its unit, every card is named by its heading, a graph node is reached
// with Tab and shows its log on Enter or Space, the connection state and the log are live regions;
// an action the unit's state cannot take is disabled and says why, and stop and restart ask first.
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type DashboardSession, dashboardServices, openDashboard } from "../support/dashboardStory.ts"

const token = "ops-controls-3e7a1c9b5d"

let session: DashboardSession
let page: Page
let problems: ReadonlyArray<string> = []

const unit = (id: string) => page.locator(`[data-unit="${id}"]`)
const action = (id: string, command: string) => unit(id).locator(`[data-action="${command}"]`)
const untilState = (id: string, state: string) =>
  page.waitForSelector(`[data-unit="${id}"][data-state="${state}"]`, { timeout: 15_000 })

beforeAll(async () => {
  session = await openDashboard(token, dashboardServices(500))
  ;({ page, problems } = session)
  await untilState("db", "running")
  await untilState("api", "running")
}, 60_000)

afterAll(() => session?.close())

describe("the dashboard's controls", () => {
  it("name their unit: each card by its heading, each action as `restart web`, its text kept", async () => {
    for (const id of ["db", "api"]) {
      const labelledBy = (await unit(id).getAttribute("aria-labelledby")) ?? ""
      const heading = page.locator(`h3[id="${labelledBy}"]`)
      expect(await heading.textContent()).toBe(id)
      // The name in the heading still selects the unit's log.
      expect(await heading.locator("button").count()).toBe(1)
      for (const command of ["start", "stop", "restart", "suspend", "resume"]) {
        expect(await action(id, command).getAttribute("aria-label")).toBe(`${command} ${id}`)
        expect(await action(id, command).textContent()).toBe(command)
      }
    }
    await unit("db").locator("h3 button").click()
    await page.waitForSelector('[data-log="db"]')
  })

  it("has live regions: the connection state a status, the log a log", async () => {
    expect(await page.locator('[role="status"][aria-live="polite"]').first().textContent()).toContain("live")
    expect(await page.locator('[role="log"][data-log]').count()).toBe(1)
  })

  it("reaches a graph node with Tab; Enter and Space show its log, as a click does", async () => {
    await page.waitForSelector('svg.graph [data-node="api"]')
    expect(await page.locator('svg.graph [data-node="api"]').getAttribute("tabindex")).toBe("0")
    expect(await page.locator('svg.graph [data-node="api"]').getAttribute("aria-label")).toBe(
      "api: show its log",
    )
    // Start from the panel's heading, then Tab as a keyboard user would.
    await page.locator(".graph-panel h2").click()
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-node") ?? "")
    for (let i = 0; i < 5 && (await focused()) !== "api"; i++) await page.keyboard.press("Tab")
    expect(await focused()).toBe("api")
    await page.keyboard.press("Enter")
    await page.waitForSelector('[data-log="api"][role="log"]')
    await page.keyboard.press("Shift+Tab")
    expect(await focused()).toBe("db")
    const scrolled = await page.evaluate(() => window.scrollY)
    await page.keyboard.press(" ")
    await page.waitForSelector('[data-log="db"]')
    expect(await page.evaluate(() => window.scrollY)).toBe(scrolled)
  })

  it("disables what the state cannot take, saying why, and keeps the rest", async () => {
    expect(await action("db", "start").isDisabled()).toBe(true)
    expect(await action("db", "start").getAttribute("title")).toBe(
      "cannot start db: it is running: restart it instead",
    )
    expect(await action("db", "resume").isDisabled()).toBe(true)
    expect(await action("db", "resume").getAttribute("title")).toBe(
      "cannot resume db: only a suspended unit can be resumed; it is running",
    )
    for (const command of ["stop", "restart", "suspend"])
      expect(await action("db", command).isDisabled()).toBe(false)
  })

  it("asks before a stop: the first click says `confirm stop?`, the second stops; then only start", async () => {
    const stop = action("api", "stop")
    await stop.click()
    expect(await stop.textContent()).toBe("confirm stop?")
    expect(await stop.getAttribute("aria-label")).toBe("confirm stop api")
    expect(await unit("api").getAttribute("data-state")).toBe("running")
    await stop.click()
    await untilState("api", "stopped")
    expect(await action("api", "stop").isDisabled()).toBe(true)
    expect(await action("api", "stop").textContent()).toBe("stop")
    await action("api", "start").click()
    await untilState("api", "running")
    session.p.pids.add(Number(await unit("api").getAttribute("data-pid")))
  })

  it("asks before a restart too, and forgets the question after a while", async () => {
    const restart = action("db", "restart")
    const pid = await unit("db").getAttribute("data-pid")
    await restart.click()
    expect(await restart.textContent()).toBe("confirm restart?")
    await page.waitForFunction(
      () => document.querySelector('[data-unit="db"] [data-action="restart"]')?.textContent === "restart",
      undefined,
      { timeout: 8_000 },
    )
    expect(await unit("db").getAttribute("data-pid")).toBe(pid)
    await restart.click()
    await restart.click()
    await page.waitForFunction(
      (before) => {
        const now = document.querySelector('[data-unit="db"]')?.getAttribute("data-pid")
        return now !== "" && now !== before
      },
      pid,
      { timeout: 15_000 },
    )
    session.p.pids.add(Number(await unit("db").getAttribute("data-pid")))
  })

  it("logged no errors in the console", () => {
    expect(problems).toEqual([])
  })
})
