// `sam stop x` is a promise to a script that x is down: a start that came while x was stopping
// (queued, docs/LIFECYCLE.md) leaves it running, and the stop then says so and exits 1.
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("sam stop overtaken by a start", () => {
  it("exits 1 naming the state the unit is in again, where a stop that holds exits 0", async () => {
    p = project()
    p.writeConfig({
      services: {
        // Ignores SIGTERM: its stop takes the whole grace, and a start comes meanwhile.
        slow: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("stubborn.mjs")] },
          stop: { grace_seconds: 3 },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    const stop = runSam(["stop", "slow"], { cwd: p.dir })
    await untilUnit(sam, "services", "slow", (s) => s.status === "stopping")
    const start = await runSam(["start", "slow"], { cwd: p.dir })
    expect(start.code).toBe(0)
    const stopped = await stop
    expect(stopped.stderr).toMatch(
      /^sam: slow is (running|starting) again: a start came while it was stopping$/m,
    )
    expect(stopped.code).toBe(1)
    await untilUnit(sam, "services", "slow", (s) => s.status === "running")

    const plain = await runSam(["stop", "slow"], { cwd: p.dir })
    expect(plain.code).toBe(0)
  })
})
