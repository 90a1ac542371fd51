// A unit's cron_restart (docs/CONFIG.md): on each time of its schedule what runs restarts (a new
// pid), a job that ended runs again, and a unit an operator stopped stays stopped, each said by a
// `cron-restart` event. A schedule of every second, so the test sees a few of its times; bounded
// waits on what SAM reports, not sleeps.
import { describe, expect, it } from "vitest"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { nodeService } from "../support/runtime.ts"
import { samPerTest } from "../support/samPerTest.ts"

const newSam = samPerTest()
const everySecond = "* * * * * *"

/** Resolves with the unit's `cron-restart` events once `count` have come (bounded). */
const cronEvents = (sam: ReturnType<typeof newSam>, unit: string, count: number, timeoutMs = 15_000) =>
  new Promise<string[]>((resolve, reject) => {
    const seen: string[] = []
    const timer = setTimeout(() => {
      off()
      reject(new Error(`only ${seen.length} cron-restart events for ${unit}: ${seen.join(" | ")}`))
    }, timeoutMs)
    const off = sam.events.subscribe((e: SamEvent) => {
      if (e.type !== "supervisor" || e.action !== "cron-restart" || e.unit !== unit) return
      seen.push(String(e.detail))
      if (seen.length === count) {
        clearTimeout(timer)
        off()
        resolve(seen)
      }
    })
  })

describe("cron_restart", () => {
  it("restarts a running service on each time of its schedule: a new process each time", async () => {
    const s = newSam({ units: [{ ...nodeService("web", "http-service.mjs"), cronRestart: everySecond }] })
    await s.start()
    const first = s.unitStatus("web").pid
    const events = await cronEvents(s, "web", 2)
    expect(events[0]).toBe(`web: its cron_restart time came (${everySecond}); restarting it`)
    const after = await s.until("web", (u) => u.state === "running" && u.pid !== first, 10_000)
    expect(after.pid).not.toBe(first)
    // Restarts of its schedule count as restarts, and the reason says why.
    expect(s.unitStatus("web").restarts).toBeGreaterThanOrEqual(1)
  })

  it("runs a job that ended by itself again, and leaves a unit an operator stopped alone", async () => {
    const job = {
      ...nodeService("job", "exit.mjs", { env: { EXIT_CODE: "0" } }),
      restart: { ...nodeService("x", "exit.mjs").restart, type: "transient" as const },
      cronRestart: everySecond,
    }
    const web = { ...nodeService("web", "http-service.mjs"), cronRestart: everySecond }
    const s = newSam({ units: [job, web] })
    let jobStarts = 0
    s.events.subscribe((e) => {
      if (e.type === "transition" && e.unit === "job" && e.to === "starting") jobStarts++
    })
    await s.start()
    await s.until("job", (u) => u.state === "stopped", 10_000)
    await s.services.stop("web")
    const [jobSaid, webSaid] = await Promise.all([cronEvents(s, "job", 2), cronEvents(s, "web", 1)])
    expect(jobSaid).toContain(
      `job: its cron_restart time came (${everySecond}); it ended by itself: running it again`,
    )
    expect(jobStarts).toBeGreaterThanOrEqual(2)
    expect(webSaid[0]).toBe(
      `web: its cron_restart time came (${everySecond}); not restarted: it is stopped (\`sam start web\` starts it)`,
    )
    expect(s.unitStatus("web").state).toBe("stopped")
  })

  it("a reload that sets or changes it applies at once, without restarting the unit", async () => {
    const web = nodeService("web", "http-service.mjs")
    const s = newSam({ units: [web] })
    await s.start()
    const pid = s.unitStatus("web").pid
    const events = cronEvents(s, "web", 1)
    const report = await s.apply({ units: [{ ...web, cronRestart: everySecond }], groups: [] })
    expect(report.diff.reconfigured.map((u) => u.id)).toEqual(["web"])
    expect(s.unitStatus("web").pid).toBe(pid)
    expect((await events)[0]).toBe(`web: its cron_restart time came (${everySecond}); restarting it`)
  })
})
