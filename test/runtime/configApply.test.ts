// A config reload applied to running units (Sam.apply): a crashed unit whose config is fixed runs
// again, as `docker compose up` recreates and starts a changed service; a new unit that waits for
// a dependency an operator stopped does not hold up the reload (nor the reloads after it); a unit
// replaced while SAM's start-up waits for its dependency is the one the start-up then waits for.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import type { UnitSpec } from "../../src/runtime/unitSpec.ts"
import { fixturePath } from "../support/daemon.ts"
import { type TempProject, tempProject } from "../support/plugins.ts"
import { httpCheck, nodeService, survivors } from "../support/runtime.ts"
import { samPerTest } from "../support/samPerTest.ts"

const newSam = samPerTest()
let configured: ConfiguredSam | undefined
const projects: TempProject[] = []
const pids = new Set<number>()
afterEach(async () => {
  await configured?.stop()
  configured = undefined
  for (const p of projects.splice(0)) p.remove()
  expect(survivors(pids)).toEqual([])
  pids.clear()
})

const started = (units: ReadonlyArray<UnitSpec>) => newSam({ units, startTimeoutMs: 10_000 })

const crashing = nodeService("api", "exit.mjs", {
  env: { EXIT_CODE: "3" },
  restart: { maxRestarts: 1, backoffBaseMs: 20, backoffMaxMs: 300_000 },
})
const fixed = nodeService("api", "http-service.mjs", { probes: [httpCheck({ intervalMs: 50 })] })

describe("a config reload and units that are down", () => {
  it("a crashed unit whose config changed is started with the new one", async () => {
    const s = started([crashing])
    await s.start()
    await s.until("api", (u) => u.state === "crashed")
    const report = await s.apply({ units: [fixed], groups: [] })
    expect(report.diff.restarted.map((u) => u.id)).toEqual(["api"])
    const up = await s.until("api", (u) => u.state === "running" && u.ready, 20_000)
    expect(up.pid).toBeGreaterThan(0)
  })

  it("while an operator's stop is kept: a stopped unit whose config changed stays stopped", async () => {
    const s = started([fixed])
    await s.start()
    await s.services.stop("api")
    await s.apply({ units: [{ ...fixed, stop: { ...fixed.stop, graceMs: 1_000 } }], groups: [] })
    expect(s.unitStatus("api").state).toBe("stopped")
  })

  it("a new unit waiting for a dependency an operator stopped does not hold up the reload", async () => {
    const project = tempProject()
    projects.push(project)
    const service = (dependsOn: string[] = []) => ({
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
      health_check: { endpoint: "/health", interval_seconds: 0.05, kind: "readiness" },
      depends_on: dependsOn,
    })
    const write = (services: Record<string, unknown>) =>
      project.write("sam.json", JSON.stringify({ services }, null, 2))
    write({ db: service() })
    const s = await createSam(project.path("sam.json"), { logFile: false, plugins: false, auditLog: false })
    configured = s
    s.events.subscribe((e) => {
      if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
    })
    await s.start()
    // An operator's stop, kept (in the runtime store): a dependent waits for it rather than undo it.
    await s.services.stop("db")
    const waiting = new Promise<void>((resolve) => {
      const off = s.events.subscribe((e) => {
        if (e.type === "supervisor" && e.action === "waiting" && e.unit === "web") {
          off()
          resolve()
        }
      })
    })
    write({ db: service(), web: service(["db"]) })
    // The reload is done while web waits for db.
    expect(await s.reloader!.reload()).toMatchObject({ ok: true, added: ["web"] })
    await waiting
    expect(s.unitStatus("web").state).toBe("stopped")
    expect(s.unitStatus("db").state).toBe("stopped")
    // The next reload is not queued behind it either.
    write({ db: service(), web: service(["db"]), extra: service() })
    expect(await s.reloader!.reload()).toMatchObject({ ok: true, added: ["extra"] })
    await s.until("extra", (u) => u.state === "running")
    // Once the operator starts db, web follows.
    await s.services.start("db")
    await s.until("web", (u) => u.state === "running", 20_000)
  })

  it("a start-up waiting for a unit a reload replaced waits for the new one, not for the start timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-apply-"))
    const flag = join(dir, "unhealthy")
    writeFileSync(flag, "")
    try {
      // slow is unready while the flag exists, with a readiness budget longer than the test: the
      // start-up waits for it (and for app, which waits for slow) until the flag goes.
      const slow = nodeService("slow", "toggle-health.mjs", {
        env: { UNHEALTHY_FILE: flag },
        probes: [httpCheck({ intervalMs: 50, startPeriodMs: 120_000 })],
      })
      const app = (greeting: string) =>
        nodeService("app", "http-service.mjs", { dependsOn: ["slow"], env: { GREETING: greeting } })
      const s = newSam({ units: [slow, app("hello")], startTimeoutMs: 120_000 })
      const starting = s.start()
      await s.until("slow", (u) => u.state === "running")
      const report = await s.apply({ units: [slow, app("bonjour")], groups: [] })
      expect(report.diff.restarted.map((u) => u.id)).toEqual(["app"])
      rmSync(flag)
      // Without the start-up's second look it would wait for the replaced app, which never starts.
      const started = await starting
      expect(started.ready).toEqual(expect.arrayContaining(["slow", "app"]))
      expect(s.unitStatus("app").restarts).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
