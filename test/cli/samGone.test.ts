// SAM killed (SIGKILL: no chance to remove its api.json): the CLI names the SAM that is gone, where
// it was and how to start it again, instead of a default address and advice for another project.
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { survivors } from "../support/runtime.ts"
import { runSam } from "./runSam.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

const untilGone = async (pids: Iterable<number>): Promise<ReadonlyArray<number>> => {
  // The reaper (SAM's helper) stops the units once it sees SAM die: wait for it, bounded.
  for (let i = 0; i < 500 && survivors(pids).length > 0; i++) await new Promise((r) => setTimeout(r, 20))
  return survivors(pids)
}

describe("the CLI after SAM was killed", () => {
  it("names the recorded SAM and the command that starts it again", async () => {
    // A config file that is not sam.config.ts (JSON is YAML too).
    p = project("sam.yaml")
    p.writeConfig({
      api: { host: "127.0.0.1", port: 0 },
      services: {
        web: {
          deployment: { mode: "process", command: process.execPath, args: [fixturePath("http-service.mjs")] },
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput("units ready")
    await sam.waitForOutput("control API on")
    const url = /control API on (http:\/\/\S+)/.exec(sam.output())?.[1] as string
    expect((await runSam(["ps"], { cwd: p.dir })).code).toBe(0)

    sam.child.kill("SIGKILL")
    await sam.exited
    expect(await untilGone(p.pids)).toEqual([])

    const recorded = new RegExp(
      `the SAM recorded in \\.sam/api\\.json \\(pid ${sam.pid}, ${url.replace(/[.]/g, "\\.")}, started \\d{4}-[^)]+\\) ` +
        "has exited without stopping cleanly; start it again with `sam start --config sam.yaml`\\n$",
    )
    // No config named and no sam.config.ts here: the dead SAM recorded here is the one meant.
    const ps = await runSam(["ps"], { cwd: p.dir })
    expect(ps.code).toBe(1)
    expect(ps.stderr).toMatch(/^sam: SAM is not running: the SAM recorded in /)
    expect(ps.stderr).not.toContain("7070")
    expect(ps.stderr).toMatch(recorded)
    expect(ps.stderr).not.toContain("npm start")
    // Its config named: api.port 0 leaves no address to try, so the dead SAM is all there is to say.
    const named = await runSam(["ps", "--config", "sam.yaml"], { cwd: p.dir })
    expect(named.code).toBe(1)
    expect(named.stderr).toMatch(/^sam: SAM is not running: the SAM recorded in /)
    expect(named.stderr).toMatch(recorded)
    // What `sam shutdown` wants holds already: said, exit 0 (as `docker compose down` with nothing up).
    const shutdown = await runSam(["shutdown"], { cwd: p.dir })
    expect(shutdown).toMatchObject({ code: 0, stderr: "" })
    expect(shutdown.stdout).toMatch(
      new RegExp(
        `^sam: SAM is not running: the SAM recorded in \\.sam/api\\.json \\(pid ${sam.pid}, [^)]+\\) ` +
          "has exited without stopping cleanly; nothing to shut down\n$",
      ),
    )
  })
})
