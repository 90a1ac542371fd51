import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, type UnitBody, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("sam ps and a unit that keeps failing", () => {
  it("shows a crashed unit's next attempt (on_exhausted: retry) and the API's next_attempt_at", async () => {
    p = project()
    p.writeConfig({
      services: {
        broken: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("exit.mjs")],
            env: { EXIT_CODE: "1" },
          },
          restart_policy: { max_restarts: 1, backoff_seconds: 0.05, max_backoff_seconds: 300 },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "services", "broken", (s) => s.status === "crashed")
    const view = await sam.api<{ next_attempt_at: string | null }>("GET", "/api/services/broken")
    const due = Date.parse(view.body.next_attempt_at ?? "")
    expect(due - Date.now()).toBeGreaterThan(250_000)
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(0)
    expect(ps.stdout).toMatch(
      /^broken +service +process +crashed, retry in 4m5\ds|^broken +service +process +crashed, retry in 5m00s/m,
    )
    // Why, under the table, as the API's reason says it.
    const reason = (await sam.api<{ reason: string }>("GET", "/api/services/broken")).body.reason
    expect(reason).toMatch(/exited with code 1/)
    // Without the delay it was decided with (next_attempt_at is when): the STATE column counts down.
    expect(reason).not.toMatch(/retrying in/)
    expect(ps.stdout).toContain(`\nbroken: ${reason}\n`)
    // The moment's progress line (its transition event) said the delay, as it was then.
    await sam.waitForOutput(/broken crashed: .*exited with code 1.*; retrying in 5m00s/)
  })

  it("says why a running unit is not ready, and why one left stopped after a failure is down", async () => {
    p = project()
    p.writeConfig({
      services: {
        sick: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("http-service.mjs")],
            env: { HEALTH_STATUS: "503" },
          },
          health_check: { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" },
        },
        once: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("exit.mjs")],
            env: { EXIT_CODE: "1" },
          },
          restart_policy: "never",
        },
      },
    })
    const sam = await p.start()
    // Not "press Ctrl+C": the start-up waits out sick's readiness window. The API is up by then.
    await sam.waitForOutput("sam: control API on")
    await untilUnit<UnitBody & { reason: string }>(
      sam,
      "services",
      "sick",
      (s) => s.status === "running" && !s.ready && /503/.test(s.reason),
    )
    await untilUnit<UnitBody & { reason: string }>(
      sam,
      "services",
      "once",
      (s) => s.status === "stopped" && /not restarted/.test(s.reason),
    )
    const ps = await runSam(["ps"], { cwd: p.dir })
    const reason = async (id: string) =>
      (await sam.api<{ reason: string }>("GET", `/api/services/${id}`)).body.reason
    expect(ps.stdout).toMatch(/\nsick: .*503.*\n/)
    expect(ps.stdout).toContain(`\nonce: ${await reason("once")}\n`)
    expect(await reason("once")).toMatch(/exited with code 1; not restarted: /)
  })
})
