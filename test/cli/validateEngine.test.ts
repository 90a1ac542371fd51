import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runSam } from "./runSam.ts"

describe("sam validate and container engines", () => {
  it("warns (exit 0) when the engine CLI is installed but cannot run containers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-validate-engine-"))
    try {
      const engine = join(repoRoot, "test", "fixtures", "fake-engine.sh")
      writeFileSync(
        join(dir, "sam.config.yaml"),
        `services:\n  vectors:\n    deployment: { mode: container, image: "example/vectors:1", engine: "${engine}" }\n`,
      )
      const run = await runSam(["validate", "--config", "sam.config.yaml"], {
        cwd: dir,
        env: { FAKE_ENGINE_DOWN: "1", FAKE_ENGINE_LOG: join(dir, "calls.log") },
      })
      expect(run.code).toBe(0)
      expect(run.stdout.split("\n")[0]).toBe("ok: 0 agents, 1 service")
      expect(run.stderr).toContain(
        `services.vectors: container engine "${engine}" is installed but cannot run containers: Cannot connect to the container daemon. Is the daemon running?; starting it will fail`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
