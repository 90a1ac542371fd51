// A plugin's health check kind is plugin code SAM calls on every check: whatever it does — throw
// before returning, return a plain object instead of a promise, return nothing useful — is one
// check's result, recorded and counted, never a check that hangs or an exception in SAM.
import { afterEach, describe, expect, it, vi } from "vitest"
import { PluginHost } from "../../src/plugins/index.ts"
import { Sam } from "../../src/runtime/sam.ts"
import type { ProbeSpec } from "../../src/runtime/unitSpec.ts"
import { type TempProject, tempProject } from "../support/plugins.ts"
import { nodeService, survivors } from "../support/runtime.ts"

const kinds = `export default {
  name: "odd-checks",
  version: "1.0.0",
  apiVersion: 1,
  setup(ctx) {
    ctx.healthChecks.register("throws", () => { throw new Error("probe kaboom") })
    ctx.healthChecks.register("plain", () => ({ ok: true, detail: "fine, and not a promise" }))
    ctx.healthChecks.register("shapeless", async () => undefined)
  },
}
`

const check = (type: string): ProbeSpec => ({
  type,
  intervalMs: 50,
  timeoutMs: 1_000,
  failureThreshold: 3,
  successThreshold: 1,
  startPeriodMs: 0,
  role: "readiness",
})

let world: { project: TempProject; sam: Sam; host: PluginHost } | undefined

afterEach(async () => {
  if (!world) return
  const { project, sam, host } = world
  world = undefined
  const pids = sam.status().units.flatMap((u) => (u.pid ? [u.pid] : []))
  await sam.stop()
  await host.stop()
  project.remove()
  expect(survivors(pids)).toEqual([])
})

describe("a plugin's health check kind that misbehaves", () => {
  it("a synchronous throw, a plain return and a shapeless result are each one check's result", async () => {
    const project = tempProject()
    project.write("odd-checks.mjs", kinds)
    const sam = new Sam({
      units: ["throws", "plain", "shapeless"].map((kind) =>
        nodeService(kind, "http-service.mjs", { probes: [check(kind)] }),
      ),
    })
    const host = new PluginHost({
      sam,
      baseDir: project.dir,
      pluginsDir: false,
      entries: [{ path: "./odd-checks.mjs" }],
      debounceMs: 20,
    })
    world = { project, sam, host }
    await host.start()
    expect(host.get("odd-checks")?.status).toBe("running")
    // Two never pass: the start is not awaited (it waits for readiness), their records are.
    void sam.start()
    await sam.until("plain", (s) => s.ready, 10_000)
    const recorded = (id: string, ok: boolean, detail: string) =>
      vi.waitFor(
        () => expect(sam.records(id)[0]?.health.map((h) => [h.ok, h.detail])).toContainEqual([ok, detail]),
        { timeout: 10_000, interval: 20 },
      )
    await recorded("plain", true, "fine, and not a promise")
    await recorded("throws", false, "throws check threw: probe kaboom")
    await recorded(
      "shapeless",
      false,
      "shapeless check returned undefined, not { ok: boolean, detail: string }",
    )
    // Checked again and again, not stuck on one check that never settled.
    await vi.waitFor(() => expect(sam.records("throws")[0]?.health.length).toBeGreaterThanOrEqual(3), {
      timeout: 10_000,
      interval: 20,
    })
    expect(sam.unitStatus("throws")).toMatchObject({ state: "running", ready: false })
  })
})
