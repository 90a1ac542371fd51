import { afterEach, describe, expect, it } from "vitest"
import { type Harness, harness, httpCheck, nodeService, waitFor } from "../support/runtime.ts"

// The state × command table (docs/LIFECYCLE.md) with real processes: the cells that used to go
// wrong. `stubborn` ignores SIGTERM once it is ready, so a stop waits out its grace period.
let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const stubborn = (graceMs: number) =>
  nodeService("stubborn", "stubborn.mjs", { probes: [httpCheck()], stop: { graceMs } })

const stopping = (h: Harness) => waitFor(h.supervisor.runners("stubborn")[0]!, (r) => r.state === "stopping")

describe("commands while a unit is stopping", () => {
  it("a stop during a stop-to-restart stops: the unit does not come back", async () => {
    h = harness([stubborn(1_500)])
    await h.supervisor.startAll()
    const restart = h.supervisor.command("stubborn", "restart")
    await stopping(h)
    await h.supervisor.command("stubborn", "stop")
    await restart
    expect(h.supervisor.status("stubborn").state).toBe("stopped")
  })

  it("a forced stop during a graceful one SIGKILLs at once", async () => {
    h = harness([stubborn(60_000)])
    await h.supervisor.startAll()
    const graceful = h.supervisor.command("stubborn", "stop")
    await stopping(h)
    const began = Date.now()
    await h.supervisor.command("stubborn", "stop", { graceful: false })
    await graceful
    expect(h.supervisor.status("stubborn").state).toBe("stopped")
    expect(Date.now() - began).toBeLessThan(30_000)
  })

  it("a start during a stop is queued: the unit starts again once it is down", async () => {
    h = harness([stubborn(500)])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("stubborn").pid
    const stop = h.supervisor.command("stubborn", "stop")
    await stopping(h)
    await h.supervisor.command("stubborn", "start")
    await stop
    await waitFor(h.supervisor.runners("stubborn")[0]!, (r) => r.state === "running" && r.ready)
    expect(h.supervisor.status("stubborn").pid).not.toBe(pid)
  })

  it("SAM's shutdown during a slow restart ends it: bounded, and the unit stays down", async () => {
    h = harness([stubborn(60_000)])
    await h.supervisor.startAll()
    void h.supervisor.command("stubborn", "restart")
    await stopping(h)
    const began = Date.now()
    await h.supervisor.shutdown({ timeoutMs: 1_000 })
    expect(Date.now() - began).toBeLessThan(30_000)
    expect(h.supervisor.status("stubborn").state).toBe("stopped")
    await expect(h.supervisor.command("stubborn", "start")).rejects.toMatchObject({
      _tag: "SamStopping",
      message: 'cannot start "stubborn": SAM is stopping',
    })
  })
})

describe("what a start or restart waits for", () => {
  const slow = (env: Record<string, string>) =>
    nodeService("slow", "slow-ready.mjs", {
      env,
      probes: [httpCheck({ intervalMs: 100, failureThreshold: 3, timeoutMs: 500 })],
    })

  it("answers once the unit is ready again, as `compose up --wait` does: a caller may use it at once", async () => {
    h = harness([slow({ READY_AFTER_MS: "400" })])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("slow").pid
    await h.supervisor.command("slow", "restart")
    expect(h.supervisor.status("slow")).toMatchObject({ state: "running", ready: true })
    expect(h.supervisor.status("slow").pid).not.toBe(pid)
    await h.supervisor.command("slow", "stop")
    await h.supervisor.command("slow", "start")
    expect(h.supervisor.status("slow")).toMatchObject({ state: "running", ready: true })
  })

  it("one that is not ready within what its readiness check allows answers as it is, unready", async () => {
    // Ready only after a minute: the check's budget (3 × 100 ms + 500 ms) runs out first.
    h = harness([slow({ READY_AFTER_MS: "60000" })])
    void h.supervisor.startAll(1_000)
    await waitFor(h.supervisor.runners("slow")[0]!, (r) => r.state === "running")
    await h.supervisor.command("slow", "restart")
    expect(h.supervisor.status("slow")).toMatchObject({ state: "running", ready: false })
  })
})

describe("commands and dependencies", () => {
  it("a restart of a unit whose dependency is stopped starts the dependency first, like a start", async () => {
    const db = nodeService("db", "http-service.mjs", { probes: [httpCheck()] })
    const api = nodeService("api", "http-service.mjs", { dependsOn: ["db"], probes: [httpCheck()] })
    h = harness([db, api])
    await h.supervisor.startAll()
    await h.supervisor.command("db", "stop")
    const apiPid = h.supervisor.status("api").pid
    await h.supervisor.command("api", "restart")
    expect(h.supervisor.status("db")).toMatchObject({ state: "running", ready: true })
    await waitFor(h.supervisor.runners("api")[0]!, (r) => r.state === "running" && r.ready)
    expect(h.supervisor.status("api").pid).not.toBe(apiPid)
  })
})
