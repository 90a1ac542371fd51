// What both dashboard stories (Chromium, Firefox) share: the two services they start from — `db`,
// an HTTP service with a health check, and `api`, which depends on it and logs a tick every
// `tickMs` (the live log tail's material), both restarted at once when killed — and the login
// link `sam dashboard` prints.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { BrowserContext, Page } from "playwright-core"
import { expect } from "vitest"
import { runSam } from "../cli/runSam.ts"
import { launchChromium } from "./chromium.ts"
import { type Daemon, fixturePath, type Project, project } from "./daemon.ts"

export const dashboardServices = (tickMs: number) => ({
  db: {
    deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
    health_check: { endpoint: "/health", interval_seconds: 1, timeout_seconds: 1 },
    restart_policy: { type: "always", backoff_seconds: 0.2 },
  },
  api: {
    deployment: {
      mode: "process",
      command: process.execPath,
      args: [fixturePath("chatty.mjs")],
      env: { TICK_MS: String(tickMs) },
    },
    depends_on: ["db"],
    restart_policy: { type: "always", backoff_seconds: 0.2 },
  },
})

/** The login link `sam dashboard` prints for `token` in the project at `dir`, checked against `url`. */
export const loginLink = async (dir: string, token: string, url: string): Promise<string> => {
  const printed = await runSam(["dashboard", "--config", "sam.config.json"], {
    cwd: dir,
    env: { SAM_TOKEN: token },
  })
  const link = /^dashboard: (\S+)$/m.exec(printed.stdout)?.[1]
  expect(link, printed.stdout + printed.stderr).toBe(`${url}/?token=${encodeURIComponent(token)}`)
  return link as string
}

/** An operator signed in to the dashboard of a real `sam start`, in Chromium. */
export interface DashboardSession {
  readonly p: Project
  readonly sam: Daemon
  /** The control API's URL, without a trailing slash. */
  readonly url: string
  readonly context: BrowserContext
  readonly page: Page
  /** Page errors and console errors seen so far (a story ends expecting none). */
  readonly problems: Array<string>
  /** Close the browser, stop SAM; nothing it started may be left. */
  close(): Promise<void>
}

/** `sam start` of `services` with operator `token`, then the dashboard signed in and live. */
export const openDashboard = async (
  token: string,
  services: Record<string, unknown>,
): Promise<DashboardSession> => {
  const p = project()
  p.writeConfig({ security: { api_tokens: { ops: { token, role: "operator" } } }, services })
  const sam = await p.start([], { SAM_TOKEN: token })
  await sam.waitForOutput("press Ctrl+C")
  const url = (/control API on (http:\/\/\S+)/.exec(sam.output())?.[1] ?? "").replace(/\/$/, "")
  const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
  const context = await launchChromium(profile, { viewport: { width: 1280, height: 800 } })
  const page = context.pages()[0] ?? (await context.newPage())
  const problems: Array<string> = []
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`)
  })
  await page.goto(await loginLink(p.dir, token, url))
  await page.waitForSelector('[data-connection="live"][data-role="operator"]', { timeout: 15_000 })
  return {
    p,
    sam,
    url,
    context,
    page,
    problems,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
      expect(await p.cleanup()).toEqual([])
    },
  }
}
