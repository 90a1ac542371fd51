// A liveness check that trips says so honestly in `sam ps` and `sam crashes`: its failures in a
// row (the very checks SAM recorded since it last passed) against its failure_threshold, and, for
// an instance that never passed (checked often until a first pass), for how long it failed.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, type UnitBody, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

interface Check {
  readonly ok: boolean
}

/** How many of the last checks failed, back to the last that passed. */
const failuresInARow = (history: ReadonlyArray<Check>): number => {
  const lastPass = history.map((c) => c.ok).lastIndexOf(true)
  return history.length - 1 - lastPass
}

describe("a liveness check that trips", () => {
  it("names its failures in a row and its failure_threshold", async () => {
    p = project()
    const sickFlag = join(p.dir, "sick")
    const liveness = { endpoint: "/health", interval_seconds: 0.2, failure_threshold: 3, kind: "liveness" }
    p.writeConfig({
      services: {
        flaky: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("toggle-health.mjs")],
            env: { UNHEALTHY_FILE: sickFlag },
          },
          health_check: liveness,
          restart_policy: "never",
        },
        sick: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("http-service.mjs")],
            env: { HEALTH_STATUS: "500" },
          },
          health_check: { ...liveness, interval_seconds: 0.5 },
          restart_policy: "never",
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    const health = async (id: string) =>
      (await sam.api<{ health: { history: Check[] } }>("GET", `/api/services/${id}/health`)).body.health
        .history
    // flaky passes a few checks, then fails: tripped by exactly its threshold.
    for (let i = 0; i < 500 && (await health("flaky")).filter((c) => c.ok).length < 2; i++)
      await new Promise((r) => setTimeout(r, 20))
    writeFileSync(sickFlag, "")
    type WithReason = UnitBody & { reason: string }
    const stopped = (s: WithReason) => s.status === "stopped" && s.reason !== ""
    await untilUnit<WithReason>(sam, "services", "flaky", stopped)
    await untilUnit<WithReason>(sam, "services", "sick", stopped)

    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(0)
    expect(failuresInARow(await health("flaky"))).toBe(3)
    expect(ps.stdout).toMatch(
      /\nflaky: liveness check failed 3 times in a row \(failure_threshold 3\): GET http:\/\/127\.0\.0\.1:\d+\/health -> 503; SAM stopped it /,
    )
    // sick never passed: checked often from its start, it trips once 3 intervals (1.5 s) are over.
    const sickChecks = await health("sick")
    expect(sickChecks.every((c) => !c.ok)).toBe(true)
    const line =
      /\nsick: liveness check failed (\d+) times in a row in ([\d.]+)s, never passing since it started \(failure_threshold 3\): GET http:\/\/127\.0\.0\.1:\d+\/health -> 500; /.exec(
        ps.stdout,
      )
    expect(line, ps.stdout).not.toBeNull()
    expect(Number(line?.[1])).toBe(sickChecks.length)
    expect(Number(line?.[2])).toBeGreaterThanOrEqual(1.5)
    // The crash report keeps the same reason.
    const crashes = await runSam(["crashes", "flaky", "--json"], { cwd: p.dir })
    expect(JSON.parse(crashes.stdout)).toMatchObject([
      { reason: expect.stringMatching(/^liveness check failed 3 times in a row \(failure_threshold 3\): /) },
    ])
  })
})
