// `sam logs` of a unit with no line to show is not silent: a unit that wrote nothing says so, and
// one that is down says its state and why (an agent whose start failed wrote nothing, but its
// reason says what went wrong). The real daemon and the real CLI.
import { describe, expect, it } from "vitest"
import { runSam } from "../cli/runSam.ts"
import { projectPerTest, untilUnit } from "../support/daemon.ts"

const project = projectPerTest()

describe("sam logs of a unit with no lines", () => {
  it("says it wrote nothing, and for one that is down its state and why", async () => {
    const p = project()
    p.writeConfig({
      services: {
        quiet: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: ["-e", "setInterval(() => {}, 1e9)"],
          },
        },
        talker: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: ["-e", "console.log('hello'); setInterval(() => {}, 1e9)"],
          },
        },
      },
      agents: { ghost: { path: "./nope", runtime: "process", capabilities: ["x"] } },
    })
    const sam = await p.start()
    await sam.waitForOutput("press Ctrl+C")
    await untilUnit(sam, "agents", "ghost", (s) => s.status === "backoff" || s.status === "crashed")
    const ghost = await runSam(["logs", "ghost"], { cwd: p.dir })
    expect(ghost).toMatchObject({ code: 0, stdout: "" })
    expect(ghost.stderr).toMatch(
      /^sam: ghost has written nothing; it is (backoff|crashed): .+ \(`sam ps`\)\n$/,
    )
    expect(ghost.stderr).toContain("nope")
    const quiet = await runSam(["logs", "quiet"], { cwd: p.dir })
    expect(quiet).toMatchObject({ code: 0, stdout: "", stderr: "sam: quiet has written nothing yet\n" })
    const filtered = await runSam(["logs", "quiet", "--grep", "x"], { cwd: p.dir })
    expect(filtered.stderr).toBe("sam: no line of quiet matches\n")
    // Every unit: the running one that wrote nothing is not worth a line; the down one is.
    const all = await runSam(["logs"], { cwd: p.dir })
    expect(all.stderr).toMatch(/^sam: ghost has written nothing; it is /)
    expect(all.stderr).not.toContain("quiet")
    // `-n 0` of a unit that has written: nothing was asked for, so nothing to explain.
    for (;;) if ((await runSam(["logs", "talker"], { cwd: p.dir })).stdout.includes("hello")) break
    const none = await runSam(["logs", "talker", "-n", "0"], { cwd: p.dir })
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "" })
    sam.child.kill("SIGTERM")
    expect(await sam.exited).toBe(0)
  })
})
