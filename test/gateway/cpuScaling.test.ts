import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { validateConfigObject } from "../../src/config/load.ts"
import { unitSpecsFromConfig } from "../../src/runtime/fromConfig.ts"
import { cpuScaling, cpuService } from "../support/cpuService.ts"
import { type GatewayHarness, startGateway } from "../support/gateway.ts"

// Autoscaling on CPU with traffic coming through the gateway the whole time: the scale-out adds
// instances to the routing table as they turn ready, and the scale-in drains each instance before
// it stops, so no request fails either way.

let h: GatewayHarness | undefined
let dir = ""
afterEach(async () => {
  const left = await h?.close()
  h = undefined
  expect(left ?? []).toEqual([])
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = ""
})

describe("a CPU-loaded service behind the gateway", () => {
  // A bound above the default: on a machine running other CPU-heavy stories (the autoscaler's own)
  // a loaded instance gets less of a core, and reaching 3 can take two scaling steps.
  it("scales out to max_instances and back in after the load stops, with no failed request", {
    timeout: 90_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-gateway-cpu-"))
    const flag = join(dir, "load")
    const config = validateConfigObject({
      services: {
        api: cpuService(flag, cpuScaling),
      },
    })
    h = await startGateway(unitSpecsFromConfig(config).units, { usageIntervalMs: 200 })
    await h.routable("api", 1)

    // Steady, light traffic (about 50 requests a second: it must not itself keep the CPU up).
    const statuses: number[] = []
    let running = true
    const url = `${h.url}/api/api/work`
    const traffic = (async () => {
      while (running) {
        const response = await fetch(url)
        await response.arrayBuffer()
        statuses.push(response.status)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()

    try {
      writeFileSync(flag, "")
      await h.sam
        .until("api", (u) => u.instances.filter((i) => i.ready).length === 3, 60_000)
        .catch((e: unknown) => {
          // What the autoscaler said and saw, for a failure on a loaded machine.
          const said = h!.sam.events
            .since()
            .flatMap((e) =>
              e.type === "supervisor" && e.unit === "api" ? [`${e.action}: ${e.detail ?? ""}`] : [],
            )
          const cpu = h!.sam.unitStatus("api").instances.map((i) => i.lastUsage?.cpuPercent)
          throw new Error(
            `${String(e)}; cpu now ${JSON.stringify(cpu)}; supervisor said:\n${said.join("\n")}`,
          )
        })
      await h.routable("api", 3)
      unlinkSync(flag)
      await h.sam.until("api", (u) => u.instances.length === 1, 60_000)
    } finally {
      // Stopped before afterEach closes SAM, whatever happened: no request outlives the test.
      running = false
      await traffic
    }

    expect(statuses.length).toBeGreaterThan(10)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    const scales = h.sam.events
      .since()
      .flatMap((e) => (e.type === "supervisor" && e.action === "scale" && e.unit === "api" ? [e] : []))
    expect(scales.map((e) => ("detail" in e ? String(e.detail) : "")).at(-1)).toMatch(/→ 1 instances$/)
  })
})
