// SIGHUP (the terminal of `sam start` closed) stops SAM the way SIGTERM does: every unit with
// its stop signal and grace, SAM last, exit 0; not an abrupt end that leaves the reaper to SIGKILL.
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project, untilUnit } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("sam start and SIGHUP", () => {
  it("stops every unit gracefully, then SAM, exit 0", async () => {
    p = project()
    p.writeConfig({
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
          health_check: { endpoint: "/health", interval_seconds: 0.2 },
        },
      },
    })
    const daemon = await p.start()
    await daemon.waitForOutput("press Ctrl+C")
    const web = await untilUnit(daemon, "services", "web", (s) => s.status === "running")
    p.pids.add(web.pid as number)
    daemon.child.kill("SIGHUP")
    expect(await daemon.exited).toBe(0)
    expect(daemon.output()).toContain("sam: SIGHUP received, stopping units in reverse dependency order")
    expect(daemon.output()).toContain("sam: stopped")
  })
})
