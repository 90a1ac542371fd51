import { availableParallelism } from "node:os"
import { afterEach, describe, expect, it } from "vitest"
import { residentBytes } from "../../src/runtime/os/proc.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { nodeService, survivors } from "../support/runtime.ts"

let sam: Sam | undefined
const pids = new Set<number>()
afterEach(async () => {
  for (const unit of sam?.status().units ?? []) for (const i of unit.instances) if (i.pid) pids.add(i.pid)
  await sam?.stop()
  sam = undefined
  expect(survivors(pids)).toEqual([])
})

const ready = Promise.withResolvers<void>()

describe("per-unit CPU and memory cover the whole process tree", () => {
  it("a unit's memory counts its children, and its CPU share is measured over each interval", async () => {
    sam = new Sam({
      units: [nodeService("tree", "busy-tree.mjs", { env: { CHILD_MB: "60", BUSY: "1" } })],
      usageIntervalMs: 200,
      output: (_unit, _instance, { line }) => {
        if (line === "ready") ready.resolve()
      },
    })
    await sam.start()
    await ready.promise
    const leader = sam.unitStatus("tree").pid as number
    // Two samples after the children hold their memory (the first is taken a moment after the spawn).
    const sampledBy = Date.now() + 10_000
    while (sam.unitStatus("tree").instances[0]?.lastUsage === undefined && Date.now() < sampledBy)
      await new Promise((r) => setTimeout(r, 20))
    const first = sam.unitStatus("tree").instances[0]!.lastUsage!.at
    const deadline = Date.now() + 10_000
    let usage = sam.unitStatus("tree").instances[0]!.lastUsage!
    // A busy loop gets well under a core on a loaded machine: wait for a sample showing it busy.
    const settled = () =>
      usage.at > first + 200 && usage.rssBytes >= 120 * 1024 * 1024 && usage.cpuPercent > 5
    while (!settled() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      usage = sam.unitStatus("tree").instances[0]!.lastUsage!
    }
    expect(usage.rssBytes).toBeGreaterThan((residentBytes(leader) ?? 0) + 100 * 1024 * 1024)
    expect(usage.cpuPercent).toBeGreaterThan(5)
    expect(usage.cpuPercent).toBeLessThanOrEqual(100 * availableParallelism() + 1)
  })
})
