// The Crashes panel after the config changed on the same state dir: reports of a unit SAM no longer
// runs (from an earlier run) are still listed, marked `(removed)` and `data-removed`; those of
// units it runs are not. Chromium against the real `sam start` daemon.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { BrowserContext } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { launchChromium } from "../support/chromium.ts"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { loginLink } from "../support/dashboardStory.ts"

const token = "ops-crashes-8b2d6f0a4c"
const services = {
  db: { deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] } },
}
const crasher = {
  deployment: {
    mode: "process",
    command: process.execPath,
    args: [fixturePath("exit.mjs")],
    env: { EXIT_CODE: "3", EXIT_AFTER_MS: "100", EXIT_MESSAGE: "flaky gives up" },
  },
  restart_policy: "never",
}

let p: Project | undefined
let context: BrowserContext | undefined
let profile: string | undefined

afterAll(async () => {
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
  if (p) expect(await p.cleanup()).toEqual([])
})

describe("the Crashes panel", () => {
  it("marks the reports of a unit the config no longer has", async () => {
    p = project()
    const config = (extra: Record<string, unknown>) => ({
      security: { api_tokens: { ops: { token, role: "operator" } } },
      services: { ...services, ...extra },
    })
    p.writeConfig(config({ flaky: crasher }))
    let sam = await p.start([], { SAM_TOKEN: token })
    await sam.waitForOutput("press Ctrl+C")
    const first = (/control API on (http:\/\/\S+)/.exec(sam.output())?.[1] ?? "").replace(/\/$/, "")
    const reports = async () => {
      const answer = await fetch(`${first}/api/crashes?unit=flaky`, {
        headers: { authorization: `Bearer ${token}` },
      })
      return answer.ok ? ((await answer.json()) as { crashes: unknown[] }).crashes.length : 0
    }
    const deadline = Date.now() + 15_000
    while ((await reports()) === 0) {
      if (Date.now() > deadline) throw new Error(`no crash report of flaky:\n${sam.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
    // The same state dir, without flaky.
    p.writeConfig(config({}))
    sam = await p.start([], { SAM_TOKEN: token })
    await sam.waitForOutput("press Ctrl+C")
    const url = (/control API on (http:\/\/\S+)/.exec(sam.output())?.[1] ?? "").replace(/\/$/, "")
    profile = mkdtempSync(join(tmpdir(), "sam-chromium-"))
    context = await launchChromium(profile)
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(await loginLink(p.dir, token, url))
    await page.waitForSelector('[data-unit="db"]')
    const report = page.locator('[data-crash-unit="flaky"]').first()
    await report.waitFor({ timeout: 15_000 })
    await page.waitForSelector('[data-crash-unit="flaky"][data-removed]')
    expect(await report.locator(".crash-head").textContent()).toContain("flaky (removed)")
    expect(await page.locator('[data-crash-unit="db"][data-removed]').count()).toBe(0)
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
  }, 60_000)
})
