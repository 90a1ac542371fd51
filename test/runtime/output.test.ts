import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { afterEach, describe, expect, it } from "vitest"
import { truncationMarker } from "../../src/runtime/output/lineSplitter.ts"
import { Sam } from "../../src/runtime/sam.ts"
import { httpCheck, nodeService, survivors } from "../support/runtime.ts"

// A full GC on demand in this worker: what SAM keeps is what survives one.
setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
/** JS heap and Buffers in use after a full GC. */
const kept = () => {
  gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

let sam: Sam | undefined
const pids = new Set<number>()
afterEach(async () => {
  for (const unit of sam?.status().units ?? []) for (const i of unit.instances) if (i.pid) pids.add(i.pid)
  await sam?.stop()
  sam = undefined
  expect(survivors(pids)).toEqual([])
  pids.clear()
})

describe("a child's output can never hurt SAM", () => {
  it("a 600 MB line without a newline is truncated, SAM's memory stays bounded and its siblings run on", async () => {
    const lines: string[] = []
    const done = Promise.withResolvers<void>()
    sam = new Sam({
      units: [
        nodeService("flood", "long-line.mjs", { env: { LINE_MB: "600" }, probes: [httpCheck()] }),
        nodeService("calm", "http-service.mjs", { probes: [httpCheck()] }),
      ],
      maxLineBytes: 64 * 1024,
      output: (unit, _instance, { line }) => {
        if (unit !== "flood") return
        lines.push(line)
        if (line === "done") done.resolve()
      },
    })
    const before = { rss: process.memoryUsage().rss, kept: kept() }
    const report = await sam.start()
    expect(report.notReady.filter((u) => u.id === "calm")).toEqual([])
    const calmPid = sam.unitStatus("calm").pid
    await done.promise
    const grown = { rss: process.memoryUsage().rss - before.rss, kept: kept() - before.kept }
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe(`${"x".repeat(64 * 1024)}${truncationMarker(64 * 1024)}`)
    expect(lines[1]).toBe("done")
    // 600 MB went through; SAM kept one line's worth (plus the runtime's own noise), and never
    // held the line: the 64 KiB reads it went through in are garbage the GC may not have had yet.
    expect(grown.kept).toBeLessThan(32 * 1024 * 1024)
    expect(grown.rss).toBeLessThan(200 * 1024 * 1024)
    expect(sam.unitStatus("calm")).toMatchObject({ state: "running", ready: true, pid: calmPid })
    expect(sam.unitStatus("flood")).toMatchObject({ state: "running", restarts: 0 })
  })
})
