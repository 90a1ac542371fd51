// What `sam start` prints for a unit past its restart intensity: its exits and one crashed line
// that says it all, not three lines for one decision (give-up, escalation, crashed).
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("sam start and a crash loop", () => {
  it("says a unit past its restart intensity crashed once, without the supervisor's bookkeeping", async () => {
    p = project()
    p.writeConfig({
      services: {
        flappy: {
          deployment: {
            mode: "process",
            command: process.execPath,
            args: [fixturePath("exit.mjs")],
            // Its last stderr line, quoted in the reasons SAM prints, tries to retitle the terminal.
            env: { EXIT_CODE: "1", EXIT_MESSAGE: "bad \x1b]0;PWN\x07" },
          },
          restart_policy: { max_restarts: 1, backoff_seconds: 0.05 },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput(
      /✗ flappy crashed: restart intensity exceeded \(1 in 60s\): exited with code 1.*; retrying in 5m00s\n/,
    )
    expect(sam.output()).not.toMatch(/give-up:|escalation:/)
    // As root (CI runs so), the start-up says what root units can do to their containment.
    const rootLine =
      "sam: running as root: its units run as root too, and a process running as root can move itself out of its containment cell"
    if (process.getuid?.() === 0) expect(sam.output()).toContain(rootLine)
    else expect(sam.output()).not.toContain(rootLine)
    // Shown escaped, as `sam logs` shows it.
    expect(sam.output()).toContain("exited with code 1: bad \\x1b]0;PWN\\x07")
    expect(sam.output()).not.toContain("\x1b]0;PWN")
    // So do the notes under `sam ps` and `sam status`.
    for (const args of [["ps"], ["status"]]) {
      const run = await runSam(args, { cwd: (p as Project).dir })
      const output = run.stdout + run.stderr
      expect(output, args.join(" ")).toContain("bad \\x1b]0;PWN\\x07")
      expect(output, args.join(" ")).not.toContain("\x1b]0;PWN")
    }
  })
})
