// `sam crashes` once SAM has stopped: the reports its last run left in <state_dir>/state.db, said
// to be that, with the same filters and views as with a running SAM. Real daemon, real CLI.
import { describe, expect, it } from "vitest"
import { fixturePath, projectPerTest, untilUnit } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

const project = projectPerTest()

describe("sam crashes with no SAM running", () => {
  it("lists and shows the last run's crash reports", async () => {
    const p = project()
    p.writeConfig({
      services: {
        broken: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("exit.mjs")],
            env: { EXIT_CODE: "3", EXIT_MESSAGE: "fatal: no database" },
          },
          restart_policy: { type: "temporary" },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "services", "broken", (s) => s.status === "error" || s.status === "stopped")
    const live = await runSam(["crashes", "--json"], { cwd: p.dir })
    const [report] = JSON.parse(live.stdout) as Array<{ id: number; reason: string }>
    expect(report?.reason).toBe("exited with code 3: fatal: no database")
    expect((await runSam(["shutdown"], { cwd: p.dir })).code).toBe(0)
    expect(await sam.exited).toBe(0)

    const list = await runSam(["crashes"], { cwd: p.dir })
    expect(list.code).toBe(0)
    expect(list.stderr).toBe(
      `sam: SAM is not running; these are the crash reports of its last run, from ${p.stateDir}\n`,
    )
    expect(list.stdout).toMatch(new RegExp(`^${report?.id} +\\S+ \\S+ +broken +code 3 +`, "m"))
    expect(JSON.parse((await runSam(["crashes", "broken#0", "--json"], { cwd: p.dir })).stdout)).toEqual(
      JSON.parse(live.stdout),
    )
    const show = await runSam(["crashes", "show", String(report?.id)], { cwd: p.dir })
    expect(show.code).toBe(0)
    expect(show.stdout).toContain("reason:   exited with code 3: fatal: no database")
    expect(show.stdout).toMatch(/stderr +fatal: no database/)
    const missing = await runSam(["crashes", "show", "999999"], { cwd: p.dir })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("no crash report 999999")
  })
})
