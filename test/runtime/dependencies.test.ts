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
    expect(told.map((e) => ("unit" in e ? e.unit : "")).sort()).toEqual(["api", "log"])
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
