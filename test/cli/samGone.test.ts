// SAM killed (SIGKILL: no chance to remove its api.json): the CLI names the SAM that is gone, where
// it was and how to start it again, instead of a default address and advice for another project.
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { fixture, survivors } from "../support/runtime.ts"
import { repoRoot, runSam } from "./runSam.ts"

const dir = mkdtempSync(join(tmpdir(), "sam-gone-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const untilGone = async (pids: ReadonlyArray<number>): Promise<ReadonlyArray<number>> => {
  // The reaper (SAM's helper) stops the units once it sees SAM die: wait for it, bounded.
  for (let i = 0; i < 500 && survivors(pids).length > 0; i++) await new Promise((r) => setTimeout(r, 20))
  return survivors(pids)
}

describe("the CLI after SAM was killed", () => {
  it("names the recorded SAM and the command that starts it again", async () => {
    writeFileSync(
      join(dir, "sam.yaml"),
      [
        "api: { host: 127.0.0.1, port: 0 }",
        "services:",
        "  web:",
        `    deployment: { mode: process, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture("http-service.mjs"))}] }`,
        "",
      ].join("\n"),
    )
    const daemon = spawn(
      process.execPath,
      [join(repoRoot, "src/cli/main.ts"), "start", "--config", "sam.yaml"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "pipe", "inherit"],
      },
    )
    const exited = new Promise((resolve) => daemon.once("exit", resolve))
    let out = ""
    const unitPid = await new Promise<number>((resolve, reject) => {
      daemon.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const match = /ready web pid (\d+)/.exec(out)
        if (match && out.includes("units ready") && out.includes("control API on")) resolve(Number(match[1]))
      })
      daemon.once("exit", (code) => reject(new Error(`sam start exited (${code}):\n${out}`)))
    })
    const url = /control API on (http:\/\/\S+)/.exec(out)?.[1] as string
    try {
      expect((await runSam(["ps"], { cwd: dir })).code).toBe(0)
    } finally {
      daemon.kill("SIGKILL")
    }
    await exited
    expect(await untilGone([unitPid])).toEqual([])

    const recorded = new RegExp(
      `the SAM recorded in \\.sam/api\\.json \\(pid ${daemon.pid}, ${url.replace(/[.]/g, "\\.")}, started \\d{4}-[^)]+\\) ` +
        "has exited without stopping cleanly; start it again with `sam start --config sam.yaml`\\n$",
    )
    // No config named and no sam.config.ts here: the dead SAM recorded here is the one meant.
    const ps = await runSam(["ps"], { cwd: dir })
    expect(ps.code).toBe(1)
    expect(ps.stderr).toMatch(/^sam: SAM is not running: the SAM recorded in /)
    expect(ps.stderr).not.toContain("7070")
    expect(ps.stderr).toMatch(recorded)
    expect(ps.stderr).not.toContain("npm start")
    // Its config named: api.port 0 leaves no address to try, so the dead SAM is all there is to say.
    const named = await runSam(["ps", "--config", "sam.yaml"], { cwd: dir })
    expect(named.code).toBe(1)
    expect(named.stderr).toMatch(/^sam: SAM is not running: the SAM recorded in /)
    expect(named.stderr).toMatch(recorded)
  })
})
