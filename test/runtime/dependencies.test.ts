import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { type Harness, harness, httpCheck, nodeService, survivors, waitFor } from "../support/runtime.ts"

let h: Harness | undefined
afterEach(async () => {
  if (!h) return
  await h.dispose()
  expect(survivors(h.pids)).toEqual([])
  h = undefined
})

const order = (h: Harness, to: string) =>
  h.events.flatMap((e) => (e.type === "transition" && e.to === to ? [e.unit] : []))

describe("dependencies", () => {
  it("a dependent does not start before its dependency is ready; stop order is the reverse", async () => {
    // db answers its health check only after a delay, so "started" and "ready" are far apart.
    h = harness([
      nodeService("web", "http-service.mjs", { dependsOn: ["api"], probes: [httpCheck()] }),
      nodeService("api", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
      nodeService("db", "slow-ready.mjs", { probes: [httpCheck()], env: { READY_AFTER_MS: "300" } }),
    ])
    expect(h.supervisor.startOrder()).toEqual(["db", "api", "web"])
    const report = await h.supervisor.startAll()
    expect([...report.ready].sort()).toEqual(["api", "db", "web"])

    const events = h.events
    const index = (pred: (e: (typeof events)[number]) => boolean) => events.findIndex(pred)
    const dbReady = index((e) => e.type === "transition" && e.unit === "db" && e.to === "running.ready")
    const apiStarting = index((e) => e.type === "transition" && e.unit === "api" && e.to === "starting")
    const apiReady = index((e) => e.type === "transition" && e.unit === "api" && e.to === "running.ready")
    const webStarting = index((e) => e.type === "transition" && e.unit === "web" && e.to === "starting")
    expect(dbReady).toBeGreaterThan(-1)
    expect(apiStarting).toBeGreaterThan(dbReady)
    expect(webStarting).toBeGreaterThan(apiReady)
    expect(h.events.some((e) => e.type === "supervisor" && e.action === "waiting" && e.unit === "api")).toBe(
      true,
    )

    await h.supervisor.shutdown()
    expect(order(h, "stopped")).toEqual(["web", "api", "db"])
  })

  it("dependents with dependency_restart: restart are restarted when their dependency restarts", async () => {
    h = harness([
      nodeService("db", "http-service.mjs", { probes: [httpCheck()] }),
      nodeService("api", "http-service.mjs", {
        dependsOn: ["db"],
        dependencyRestart: "restart",
        probes: [httpCheck()],
      }),
      nodeService("log", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
    ])
    await h.supervisor.startAll()
    const apiPid = h.supervisor.status("api").pid
    const logPid = h.supervisor.status("log").pid
    process.kill(h.supervisor.status("db").pid as number, "SIGKILL")
    await waitFor(
      h.supervisor.runners("api")[0]!,
      (r) => r.state === "running" && r.ready && r.pid !== apiPid,
    )
    expect(h.supervisor.status("log").pid).toBe(logPid)
    const told = h.events.filter((e) => e.type === "supervisor" && e.action === "dependency-restarted")
    // Only api's restart is a decision to tell; log (dependency_restart: none) does nothing.
    expect(told.map((e) => ("unit" in e ? e.unit : "")).sort()).toEqual(["api"])
  })

  it("a restart while a dependency is down (a stop, the dependency brought up, a start) counts as one", async () => {
    h = harness([
      nodeService("db", "slow-ready.mjs", { probes: [httpCheck()], env: { READY_AFTER_MS: "400" } }),
      nodeService("web", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
    ])
    await h.supervisor.startAll()
    const db = h.supervisor.command("db", "restart")
    await waitFor(h.supervisor.runners("db")[0]!, (r) => r.state === "starting" || !r.ready)
    // db is not ready again for 400 ms: web's restart stops it, waits for db, then starts it.
    await h.supervisor.command("web", "restart")
    await db
    await waitFor(h.supervisor.runners("web")[0]!, (r) => r.state === "running" && r.ready)
    expect(h.events.some((e) => e.type === "transition" && e.unit === "web" && e.to === "stopped")).toBe(true)
    expect(h.supervisor.status("web").restarts).toBe(1)
    expect(h.supervisor.status("db").restarts).toBe(1)
  })
})

describe("depends_on conditions (Compose's long syntax)", () => {
  // A job: exits with $EXIT_CODE after $EXIT_AFTER_MS, restarted only on failure.
  const job = (code: number, restart: "transient" | "temporary" = "transient") =>
    nodeService("migrate", "exit.mjs", {
      env: { EXIT_CODE: String(code), EXIT_AFTER_MS: "200" },
      restart: { type: restart, maxRestarts: 1 },
    })

  it("service_completed_successfully: the dependent starts once the job has exited 0, and a later start does not run it again", async () => {
    h = harness([
      nodeService("app", "http-service.mjs", {
        dependsOn: ["migrate"],
        dependencyConditions: { migrate: "completed" },
        probes: [httpCheck()],
      }),
      job(0),
    ])
    const report = await h.supervisor.startAll()
    expect(report).toMatchObject({ ready: ["app"], notReady: [], completed: ["migrate"] })
    const exited = h.events.findIndex(
      (e) => e.type === "transition" && e.unit === "migrate" && e.to === "stopped",
    )
    const appStarting = h.events.findIndex(
      (e) => e.type === "transition" && e.unit === "app" && e.to === "starting",
    )
    expect(exited).toBeGreaterThan(-1)
    expect(appStarting).toBeGreaterThan(exited)
    expect(h.events).toContainEqual(
      expect.objectContaining({
        type: "supervisor",
        action: "waiting",
        detail: "app: waiting for migrate to complete",
      }),
    )
    // The job's work is done: starting its dependent again does not run it a second time.
    const runs = () =>
      h!.events.filter((e) => e.type === "transition" && e.unit === "migrate" && e.to === "starting").length
    await h.supervisor.command("app", "stop")
    await h.supervisor.command("app", "start")
    expect(h.supervisor.status("app")).toMatchObject({ state: "running", ready: true })
    expect(runs()).toBe(1)
    // An operator runs the job again (`sam start all`: the job, then its dependent): the
    // dependent waits for this run to exit 0, not for the one before.
    await h.supervisor.command("app", "stop")
    const before = h.events.length
    await h.supervisor.command("migrate", "start")
    await h.supervisor.command("app", "start")
    const since = h.events.slice(before)
    const exitedAgain = since.findIndex(
      (e) => e.type === "transition" && e.unit === "migrate" && e.to === "stopped",
    )
    const appAgain = since.findIndex(
      (e) => e.type === "transition" && e.unit === "app" && e.to === "starting",
    )
    expect(runs()).toBe(2)
    expect(exitedAgain).toBeGreaterThan(-1)
    expect(appAgain).toBeGreaterThan(exitedAgain)
  })

  it("a job done, then scaled to 0, is still done: a new instance of its dependent does not wait for it", async () => {
    h = harness([
      nodeService("app", "http-service.mjs", {
        dependsOn: ["migrate"],
        dependencyConditions: { migrate: "completed" },
        probes: [httpCheck()],
        maxInstances: 2,
      }),
      job(0),
    ])
    expect(await h.supervisor.startAll()).toMatchObject({ ready: ["app"], completed: ["migrate"] })
    await h.supervisor.scale("migrate", 0)
    await h.supervisor.scale("app", 2)
    await h.next(
      (e) => e.type === "transition" && e.unit === "app" && e.instance === 1 && e.to === "running.ready",
    )
    expect(h.supervisor.status("app")).toMatchObject({ state: "running", ready: true })
    // Scaled up again, it is a job to run again (a new instance, not yet done).
    const mark = h.events.at(-1)?.id ?? 0
    await h.supervisor.scale("migrate", 1)
    await h.next((e) => e.type === "transition" && e.unit === "migrate" && e.to === "starting" && e.id > mark)
  })

  it("a job that fails keeps its dependent waiting, and says for what", async () => {
    h = harness([
      nodeService("app", "http-service.mjs", {
        dependsOn: ["migrate"],
        dependencyConditions: { migrate: "completed" },
      }),
      job(3, "temporary"),
    ])
    const report = await h.supervisor.startAll(20_000)
    expect(report.ready).toEqual([])
    expect(report.notReady).toContainEqual({
      id: "app",
      state: "stopped",
      reason: "waiting for migrate to complete",
    })
    expect(h.supervisor.status("app").state).toBe("stopped")
    // An operator's start of it runs the job again; when that fails too, the start answers then,
    // not at its bound (2 s grace + 30 s, beyond this test's own timeout).
    const runs = () =>
      h!.events.filter((e) => e.type === "transition" && e.unit === "migrate" && e.to === "starting").length
    const before = runs()
    await h.supervisor.command("app", "start")
    expect(runs()).toBe(before + 1)
    expect(h.supervisor.status("app")).toMatchObject({ state: "stopped" })
  })

  it("a dependency not ready within what its check allows: the start reports both at once, and a start of the dependent answers", async () => {
    h = harness([
      // Never ready: its check answers 503. Its budget: 1.5 s start period, 2 × 100 ms, 200 ms timeout.
      nodeService("db", "http-service.mjs", {
        env: { HEALTH_STATUS: "503" },
        probes: [httpCheck({ intervalMs: 100, timeoutMs: 200, startPeriodMs: 1500 })],
      }),
      nodeService("app", "http-service.mjs", { dependsOn: ["db"] }),
    ])
    // Bound far beyond the test's own timeout: without the budget this start waits it out.
    const report = await h.supervisor.startAll(600_000)
    expect(report.ready).toEqual([])
    expect(report.notReady).toEqual([
      // Its check's current answer (not the refused connections of its first moments).
      {
        id: "db",
        state: "running.unready",
        reason: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/health -> 503$/),
      },
      { id: "app", state: "stopped", reason: "waiting for db to be ready" },
    ])
    // An operator's start of app answers too, with app still waiting (as `compose up --wait` fails).
    await h.supervisor.command("app", "start")
    expect(h.supervisor.status("app")).toMatchObject({ state: "stopped" })
  })

  it("service_started: the dependent starts once its dependency runs, before it is ready", async () => {
    h = harness([
      nodeService("app", "http-service.mjs", { dependsOn: ["db"], dependencyConditions: { db: "started" } }),
      nodeService("db", "slow-ready.mjs", {
        probes: [httpCheck({ intervalMs: 50 })],
        env: { READY_AFTER_MS: "60000" },
      }),
    ])
    const [app] = h.supervisor.runners("app")
    void h.supervisor.startAll(2_000)
    await waitFor(app!, (r) => r.state === "running" && r.ready)
    expect(h.supervisor.status("db")).toMatchObject({ state: "running", ready: false })
    // Its SAM_DB_URL is db's address already, the one db will answer on once it is ready.
    expect(app?.givenUrls.db).toBe(h.supervisor.status("db").instances[0]?.url)
    expect(app?.givenUrls.db).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })
})

describe("a dependency fixed by a reload", () => {
  const job = (code: number) =>
    nodeService("migrate", "exit.mjs", {
      env: { EXIT_CODE: String(code), EXIT_AFTER_MS: "100" },
      restart: { type: "temporary" },
    })
  const replace = (h: Harness, spec: Parameters<typeof h.supervisor.effect.replace>[0]) =>
    Effect.runPromise(h.supervisor.effect.replace(spec))
  const runs = (h: Harness, unit: string) =>
    h.events.filter((e) => e.type === "transition" && e.unit === unit && e.to === "starting").length

  it("releases the dependent waiting for it: a failed job fixed, and a crashed service fixed", async () => {
    h = harness([
      nodeService("app", "http-service.mjs", {
        dependsOn: ["migrate"],
        dependencyConditions: { migrate: "completed" },
      }),
      nodeService("web", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
      job(1),
      // Crash-looping until it gives up: crashed, not stopped.
      nodeService("db", "exit.mjs", {
        env: { EXIT_CODE: "1" },
        restart: { type: "permanent", maxRestarts: 1, onExhausted: "give_up" },
        probes: [httpCheck()],
      }),
    ])
    const report = await h.supervisor.startAll(1_000)
    expect(report.ready).toEqual([])
    await waitFor(h.supervisor.runners("db")[0]!, (r) => r.state === "crashed")
    // The reload's replacement of each: new runners, which the waiting dependents now watch.
    await replace(h, job(0))
    await replace(h, nodeService("db", "http-service.mjs", { probes: [httpCheck()] }))
    await waitFor(h.supervisor.runners("app")[0]!, (r) => r.state === "running" && r.ready)
    await waitFor(h.supervisor.runners("web")[0]!, (r) => r.state === "running" && r.ready)
  })

  it("a job that completed runs again with its changed config, as compose up recreates a changed one-shot", async () => {
    h = harness([job(0)])
    await h.supervisor.startAll()
    await waitFor(h.supervisor.runners("migrate")[0]!, (r) => r.state === "stopped")
    expect(runs(h, "migrate")).toBe(1)
    const ran = h.next((e) => e.type === "transition" && e.unit === "migrate" && e.to === "stopped")
    await replace(h, {
      ...job(0),
      process: { ...job(0).process!, env: { EXIT_CODE: "0", EXIT_AFTER_MS: "50" } },
    })
    await ran
    expect(runs(h, "migrate")).toBe(2)
  })
})

describe("a start of a unit whose dependency crashed", () => {
  it("tries the dependency again, as its own start would: fixed meanwhile, both come up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-dep-"))
    const flag = join(dir, "fixed")
    try {
      h = harness([
        nodeService("app", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] }),
        nodeService("db", "flag-service.mjs", {
          env: { FLAG_FILE: flag },
          restart: { type: "permanent", maxRestarts: 1, onExhausted: "give_up" },
          probes: [httpCheck()],
        }),
      ])
      void h.supervisor.startAll(1_000)
      await waitFor(h.supervisor.runners("db")[0]!, (r) => r.state === "crashed")
      writeFileSync(flag, "")
      await h.supervisor.command("app", "start")
      expect(h.supervisor.status("db")).toMatchObject({ state: "running", ready: true })
      expect(h.supervisor.status("app")).toMatchObject({ state: "running", ready: true })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
