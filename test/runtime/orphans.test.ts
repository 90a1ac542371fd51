import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { createSam } from "../../src/app/createSam.ts"
import { fixture, survivors } from "../support/runtime.ts"

const main = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts")

describe("a SAM that dies hard", () => {
  it("leaves its children running, and the next SAM on the same state dir stops them first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-orphans-"))
    const config = join(dir, "sam.config.json")
    writeFileSync(
      config,
      JSON.stringify({
        services: {
          web: {
            deployment: { mode: "process", command: process.execPath, args: [fixture("http-service.mjs")] },
            health_check: { endpoint: "/health", interval_seconds: 1, kind: "readiness" },
          },
        },
      }),
    )
    const first = spawn(process.execPath, [main, "start", "--config", config, "--port", "0"], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "inherit"],
    })
    const exited = new Promise((resolve) => first.once("exit", resolve))
    let out = ""
    const unitPid = await new Promise<number>((resolve, reject) => {
      first.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const match = /ready web pid (\d+)/.exec(out)
        if (match && out.includes("units ready")) resolve(Number(match[1]))
      })
      first.once("exit", () => reject(new Error(`sam exited early:\n${out}`)))
    })
    try {
      first.kill("SIGKILL")
      await exited
      expect(survivors([unitPid])).toEqual([unitPid])

      const next = await createSam(config, { plugins: false })
      expect(survivors([unitPid])).toEqual([])
      const reaped = next.events
        .since(0)
        .find((e) => e.type === "supervisor" && e.action === "orphans-reaped")
      expect(reaped).toMatchObject({ detail: expect.stringContaining(`web (pid ${unitPid})`) })
      await next.stop()
    } finally {
      if (survivors([unitPid]).length > 0) process.kill(-unitPid, "SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
