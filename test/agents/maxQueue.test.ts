// An agent's `max_queue` (docs/CONFIG.md): how many calls may wait for its capabilities while every
// instance is at its `concurrency`; the next one fails at once with `queue_full`, naming the limit.
// From a config object through createSam, with a real inline agent whose `slow` never answers by
// itself (the calls end when the test cancels them).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import { probeAgent } from "../support/agents.ts"

let sam: ConfiguredSam | undefined
let dir: string | undefined
afterEach(async () => {
  await sam?.stop()
  sam = undefined
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const started = async (agent: Record<string, unknown>) => {
  dir = mkdtempSync(join(tmpdir(), "sam-queue-"))
  sam = await createSam(
    {
      runtime: { state_dir: dir },
      agents: { busy: { path: probeAgent, runtime: "inline", capabilities: ["slow"], ...agent } },
    },
    { logFile: false },
  )
  expect(sam.loaded.warnings).toEqual([])
  await sam.start()
  return sam
}

/** Calls of `slow` that stay in flight or queued until `cancel` aborts them. */
const calls = (s: ConfiguredSam, n: number, cancel: AbortController) =>
  Array.from({ length: n }, () =>
    s.invoke("slow", {}, { signal: cancel.signal }).then(
      () => "answered",
      (error: { reason?: string }) => error.reason,
    ),
  )

describe("an agent's max_queue", () => {
  it("lets that many calls wait behind its concurrency, and refuses the next with queue_full", async () => {
    const s = await started({ concurrency: 1, max_queue: 2 })
    const cancel = new AbortController()
    const waiting = calls(s, 3, cancel)
    const refused = await s.invoke("slow", {}).catch((error: unknown) => error)
    expect(refused).toMatchObject({
      reason: "queue_full",
      message: 'capability "slow" is busy: 2 calls already queued (limit 2)',
    })
    cancel.abort()
    expect(await Promise.all(waiting)).toEqual(["cancelled", "cancelled", "cancelled"])
  })

  it("0: no call waits; one past its concurrency is refused at once", async () => {
    const s = await started({ concurrency: 2, max_queue: 0 })
    const cancel = new AbortController()
    const waiting = calls(s, 2, cancel)
    await expect(s.invoke("slow", {})).rejects.toMatchObject({
      reason: "queue_full",
      message: 'capability "slow" is busy: its providers take no queued calls (max_queue 0)',
    })
    cancel.abort()
    expect(await Promise.all(waiting)).toEqual(["cancelled", "cancelled"])
  })
})
