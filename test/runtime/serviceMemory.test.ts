// resources.max_memory_mb of a service (PM2's max_memory_restart): an instance whose process tree
// is resident past it when sampled is stopped and answered as a `memory` failure by its restart
// policy; the config refuses it where SAM measures nothing.
import { describe, expect, it } from "vitest"
import { loadConfig } from "../../src/config/load.ts"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { tempDir } from "../config/tempDir.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { samPerTest } from "../support/samPerTest.ts"

const newSam = samPerTest()

describe("a service's memory limit", () => {
  it("stops an instance past it and restarts it, saying why (failure `memory`)", async () => {
    const leaky = {
      ...nodeService("leaky", "grow.mjs", {
        env: { GROW_MB: "20" },
        probes: [httpCheck({ intervalMs: 50 })],
        restart: { maxRestarts: 10, backoffBaseMs: 20, backoffMaxMs: 20 },
      }),
      maxMemoryMb: 150,
    }
    const s = newSam({ units: [leaky], usageIntervalMs: 100 })
    const events: SamEvent[] = []
    s.events.subscribe((e) => void events.push(e))
    const failed = new Promise<SamEvent>((resolve) => {
      const off = s.events.subscribe((e) => {
        if (e.type === "instance.failed" && e.unit === "leaky") {
          off()
          resolve(e)
        }
      })
    })
    void s.start()
    expect(await failed).toMatchObject({
      failure: "memory",
      reason: expect.stringMatching(
        /^memory: \d+\.\d MB resident, over resources\.max_memory_mb 150; SAM stopped it with SIGTERM: exited with code 0$/,
      ),
    })
    // Stopped gracefully first (its stop signal), then started again by its restart policy.
    await s.until("leaky", (u) => u.restarts >= 1 && u.state === "running")
    const stopping = events.find((e) => e.type === "transition" && e.unit === "leaky" && e.to === "stopping")
    expect(stopping).toMatchObject({ reason: expect.stringContaining("over resources.max_memory_mb 150") })
  })

  // It exited 0 on SAM's SIGTERM, but SAM killed it: that is no job done (a dependent's `completed`).
  it("a temporary unit stopped for it is down, not completed", async () => {
    const job = {
      ...nodeService("job", "grow.mjs", {
        env: { GROW_MB: "20" },
        probes: [httpCheck({ intervalMs: 50 })],
        restart: { type: "temporary" },
      }),
      maxMemoryMb: 150,
    }
    const s = newSam({ units: [job], usageIntervalMs: 100 })
    const killed = new Promise<void>((resolve) =>
      s.events.subscribe((e) => {
        if (e.type === "instance.failed" && e.failure === "memory") resolve()
      }),
    )
    void s.start()
    await killed
    await s.until("job", (u) => u.state === "stopped")
    expect(s.unitStatus("job")).toMatchObject({ state: "stopped", completed: false })
  })

  it("is refused for a container or an external service, which SAM does not measure", async () => {
    const dir = await tempDir({
      "sam.yaml": [
        "services:",
        "  db:",
        "    deployment: { mode: external, url: http://127.0.0.1:1 }",
        "    resources: { max_memory_mb: 100 }",
        "  ok:",
        "    deployment: { mode: process, command: node }",
        "    resources: { max_memory_mb: 100 }",
        "",
      ].join("\n"),
    })
    const error = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} }).catch((e: unknown) => e)
    expect(String((error as { format?: () => string }).format?.())).toBe(
      'sam.yaml:4:33 services.db.resources.max_memory_mb: applies to services of mode "process" only (SAM measures the processes it starts), not "external"',
    )
  })
})
