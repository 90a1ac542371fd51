import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"
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
})
