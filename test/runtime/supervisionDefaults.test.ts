import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type Harness, harness, httpCheck, nodeService, waitFor } from "../support/runtime.ts"

// A wide outage must not make SAM give up on every unit (issue 17): the implicit groups have no
// group limit, and a unit past its own intensity keeps retrying every max_backoff_seconds.
let h: Harness | undefined
const dirs: string[] = []
afterEach(async () => {
  await h?.dispose()
  h = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const ready = (h: Harness, id: string, not?: number) =>
  waitFor(h.supervisor.runners(id)[0]!, (r) => r.state === "running" && r.ready && r.pid !== not)

describe("supervision defaults an operator can live with", () => {
  it("10 independent services SIGKILLed 3 times each within a minute all come back; none is crashed", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `svc${i}`)
    h = harness(
      ids.map((id) => nodeService(id, "http-service.mjs", { probes: [httpCheck({ intervalMs: 100 })] })),
    )
    await h.supervisor.startAll()
    for (let round = 0; round < 3; round++) {
      const pids = ids.map((id) => h!.supervisor.status(id).pid as number)
      for (const pid of pids) process.kill(pid, "SIGKILL")
      await Promise.all(ids.map((id, i) => ready(h!, id, pids[i])))
    }
    for (const id of ids)
      expect(h.supervisor.status(id)).toMatchObject({ state: "running", ready: true, restarts: 3 })
  })

  it("the same outage in a declared one_for_all group escalates as OTP does: the group shuts down", async () => {
    const ids = ["a", "b", "c"]
    h = harness(
      ids.map((id) =>
        nodeService(id, "http-service.mjs", { group: "storage", probes: [httpCheck({ intervalMs: 100 })] }),
      ),
      [{ name: "storage", strategy: "one_for_all", maxRestarts: 2, windowMs: 60_000 }],
    )
    await h.supervisor.startAll()
    // Two restarts are within the group's intensity (each one_for_all restart takes the others with it)...
    for (const id of ["a", "b"]) {
      const pids = ids.map((x) => h!.supervisor.status(x).pid)
      process.kill(h.supervisor.status(id).pid as number, "SIGKILL")
      await Promise.all(ids.map((x, i) => ready(h!, x, pids[i])))
    }
    // ...the third is past it.
    process.kill(h.supervisor.status("c").pid as number, "SIGKILL")
    await h.next((e) => e.type === "supervisor" && e.action === "group-shutdown")
    await Promise.all(ids.map((id) => waitFor(h!.supervisor.runners(id)[0]!, (r) => r.state === "crashed")))
    expect(h.supervisor.groupStates().find((g) => g.name === "storage")).toMatchObject({
      failed: true,
      limited: true,
    })
  })

  it("a unit that always exits 1 is crashed, retried every max_backoff_seconds, and back on its own once fixed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-flag-"))
    dirs.push(dir)
    const flag = join(dir, "configured")
    h = harness([
      nodeService("broken", "flag-service.mjs", {
        env: { FLAG_FILE: flag },
        probes: [httpCheck({ intervalMs: 100 })],
        restart: { maxRestarts: 2, windowMs: 60_000, backoffBaseMs: 20, backoffMaxMs: 600 },
      }),
    ])
    void h.supervisor.startAll()
    const crashed = await h.next((e) => e.type === "transition" && e.unit === "broken" && e.to === "crashed")
    expect(crashed).toMatchObject({
      reason: expect.stringMatching(
        /restart intensity exceeded \(2 in 60s\): exited with code 1: not configured yet.*; retrying in 0\.6s/,
      ),
    })
    expect(h.supervisor.status("broken").nextAttemptAt).toBeGreaterThan(Date.now() - 1_000)
    // Two attempts while crashed, each after the full max_backoff.
    const attempts: number[] = []
    for (let i = 0; i < 2; i++) {
      const left = await h.next(
        (e) =>
          e.type === "transition" && e.unit === "broken" && e.from === "crashed" && !attempts.includes(e.id),
      )
      attempts.push(left.id)
      const entered = [...h.events]
        .reverse()
        .find((e) => e.type === "transition" && e.unit === "broken" && e.to === "crashed" && e.id < left.id)!
      expect(Date.parse(left.at) - Date.parse(entered.at)).toBeGreaterThanOrEqual(550)
      await h.next(
        (e) => e.type === "transition" && e.unit === "broken" && e.to === "crashed" && e.id > left.id,
      )
    }
    writeFileSync(flag, "")
    await ready(h, "broken")
    expect(h.supervisor.status("broken").state).toBe("running")
  })

  it("with on_exhausted: give_up it stays down: crashed, no next attempt", async () => {
    h = harness([
      nodeService("broken", "exit.mjs", {
        env: { EXIT_CODE: "1" },
        restart: { maxRestarts: 2, windowMs: 60_000, backoffMaxMs: 300, onExhausted: "give_up" },
      }),
    ])
    void h.supervisor.startAll()
    await h.next((e) => e.type === "transition" && e.unit === "broken" && e.to === "crashed")
    const runner = h.supervisor.runners("broken")[0]!
    expect(runner.detail).toMatchObject({ state: "crashed", retrying: false })
    expect(h.supervisor.status("broken").nextAttemptAt).toBeUndefined()
  })
})
