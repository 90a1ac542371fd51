// `sam logs` once SAM has stopped: the last run's logs from the files it left (as `pm2 logs` reads
// its files), said to be that; `-f` needs a running SAM. The real daemon and the real CLI.
import { describe, expect, it } from "vitest"
import { runSam } from "../cli/runSam.ts"
import { fixturePath, projectPerTest, untilUnit } from "../support/daemon.ts"

const project = projectPerTest()

describe("sam logs with no SAM running", () => {
  it("shows the last run's lines from its log files, merged and prefixed as with a running SAM", async () => {
    const p = project()
    const chatty = {
      deployment: { mode: "process", command: process.execPath, args: [fixturePath("chatty.mjs")] },
      health_check: { endpoint: "/health", interval_seconds: 0.2 },
    }
    p.writeConfig({ services: { web: chatty, api: chatty } })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "services", "web", (s) => s.ready)
    const live = await runSam(["logs", "web", "--grep", "^hello", "--json"], { cwd: p.dir })
    expect(live.code).toBe(0)
    expect((await runSam(["shutdown"], { cwd: p.dir })).code).toBe(0)
    expect(await sam.exited).toBe(0)

    const all = await runSam(["logs"], { cwd: p.dir })
    expect(all.code).toBe(0)
    expect(all.stderr).toBe(
      `sam: SAM is not running; these are its last run's logs, from ${p.stateDir}/logs\n`,
    )
    expect(all.stdout).toMatch(/^web \| hello from web pid \d+$/m)
    expect(all.stdout).toMatch(/^api \| warning: api has something to say on stderr$/m)
    // The same line, with the same seq and time, as the running SAM gave.
    const before = JSON.parse(live.stdout.trim().split("\n")[0] as string) as { seq: number; time: string }
    const after = await runSam(["logs", "web", "--grep", "^hello", "--json"], { cwd: p.dir })
    expect(JSON.parse(after.stdout.trim().split("\n")[0] as string)).toMatchObject({
      unit: "web",
      seq: before.seq,
      time: before.time,
    })
    const one = await runSam(["logs", "api", "-n", "1", "--stream", "stderr"], { cwd: p.dir })
    expect(one.stdout).toBe("warning: api has something to say on stderr\n")

    const follow = await runSam(["logs", "-f"], { cwd: p.dir })
    expect(follow.code).toBe(1)
    expect(follow.stderr).toContain("-f follows a running SAM's units")
    const unknown = await runSam(["logs", "wbe"], { cwd: p.dir })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no agent or service "wbe" (did you mean "web"?)')
  })
})
