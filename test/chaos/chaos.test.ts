import { describe, expect, it } from "vitest"
import { runChaos } from "../support/chaos.ts"

describe("chaos: SAM keeps every unit in its desired state through random kills", () => {
  it("a few hundred SIGKILLs of units and six of SAM itself leave no duplicate, no orphan and a consistent store", async () => {
    const report = await runChaos({ units: 6, rounds: 6, samKills: 6, killsPerRound: 50, paceMs: 40 }, (l) =>
      console.log(l),
    )
    console.log(
      `chaos: ${report.unitKills} unit kills, ${report.samKills} SAM kills, ${report.restartsSeen} restarts, ${report.pidsSeen} pids seen`,
    )
    expect(report.unitKills).toBeGreaterThanOrEqual(250)
    expect(report.samKills).toBeGreaterThanOrEqual(5)
    expect(report.duplicates).toEqual([])
    expect(report.orphans).toEqual([])
    expect(report.wrongState).toEqual([])
    expect(report.storeProblems).toEqual([])
  }, 150_000)
})
