// A service's `configuration` (docs/CONFIG.md) reaches its process as JSON in
// SAM_SERVICE_CONFIGURATION; a variable of the same name in its deployment.env wins. Read from the
// running process's own environment (/proc/<pid>/environ).
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { createSam } from "../../src/app/createSam.ts"
import { fixture, survivors } from "../support/runtime.ts"

const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter((entry) => entry.includes("="))
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  )

describe("a service's configuration", () => {
  it("is its process's SAM_SERVICE_CONFIGURATION, as JSON; its deployment.env wins on a clash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-configuration-"))
    const deployment = (env: Record<string, string> = {}) => ({
      mode: "process" as const,
      command: process.execPath,
      args: [fixture("http-service.mjs")],
      env,
    })
    const ready = { endpoint: "/health", interval_seconds: 0.1, kind: "readiness" as const }
    const configuration = { collection_config: { vectors: { size: 1536, distance: "Cosine" } } }
    const sam = await createSam(
      {
        runtime: { state_dir: dir },
        services: {
          // Ready once it answers: the pid is the service's own process then, past the wrapper's exec.
          qdrant: { deployment: deployment(), configuration, health_check: ready },
          pinned: {
            deployment: deployment({ SAM_SERVICE_CONFIGURATION: "mine" }),
            configuration,
            health_check: ready,
          },
          plain: { deployment: deployment(), health_check: ready },
        },
      },
      { logFile: false },
    )
    const pids: number[] = []
    try {
      expect(sam.loaded.warnings).toEqual([])
      expect((await sam.start()).ready).toEqual(["qdrant", "pinned", "plain"])
      const pid = (id: string) => sam.unitStatus(id).pid as number
      pids.push(pid("qdrant"), pid("pinned"), pid("plain"))
      expect(JSON.parse(environOf(pid("qdrant")).SAM_SERVICE_CONFIGURATION ?? "")).toEqual(configuration)
      expect(environOf(pid("pinned")).SAM_SERVICE_CONFIGURATION).toBe("mine")
      expect(environOf(pid("plain")).SAM_SERVICE_CONFIGURATION).toBeUndefined()
    } finally {
      await sam.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    expect(survivors(pids)).toEqual([])
  })
})
