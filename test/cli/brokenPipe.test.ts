// A reader that goes away: `sam ps | head -1` must not end in an EPIPE stack trace, and
// `sam start | head -1` must not end SAM (its units and API carry on).
import { spawn } from "node:child_process"
import { statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { fixturePath, projectPerTest, untilUnit } from "../support/daemon.ts"
import { repoRoot } from "./runSam.ts"

const newProject = projectPerTest()

const service = {
  deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
  health_check: { endpoint: "/health", interval_seconds: 0.2 },
}

describe("stdout whose reader has gone", () => {
  it("a client command ends quietly, exit 0, no EPIPE", async () => {
    const p = newProject()
    p.writeConfig({ services: { web: service } })
    const child = spawn(
      process.execPath,
      [join(repoRoot, "src", "cli", "main.ts"), "validate", "--config", "sam.config.json"],
      {
        cwd: p.dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "pipe", "pipe"],
      },
    )
    child.stdout.destroy() // before Node has even started: its first write finds no reader
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)))
    expect(stderr).not.toContain("EPIPE")
    expect(code).toBe(0)
  })

  it("the daemon carries on: its units keep running and its API answers after more output", async () => {
    const p = newProject()
    p.writeConfig({ services: { web: service } })
    const daemon = await p.start()
    await daemon.waitForOutput("press Ctrl+C")
    const before = await untilUnit(daemon, "services", "web", (s) => s.status === "running")
    const samLog = join(p.stateDir, "sam.log")
    const logged = statSync(samLog).size
    daemon.child.stdout?.destroy()
    daemon.child.stderr?.destroy()
    // A restart makes SAM write its lines again, now into the broken pipes.
    expect((await daemon.api("POST", "/api/services/web/restart")).status).toBeLessThan(300)
    const after = await untilUnit(
      daemon,
      "services",
      "web",
      (s) => s.status === "running" && s.pid !== null && s.pid !== before.pid,
    )
    p.pids.add(after.pid as number)
    expect(daemon.child.exitCode).toBeNull()
    // Its log file is still written (the restart's lines).
    await expect.poll(() => statSync(samLog).size, { timeout: 10_000 }).toBeGreaterThan(logged)
    expect((await daemon.api("GET", "/api/status")).status).toBe(200)
  })
})
