// A Sam for each test: every pid its transitions name is tracked, and after the test it is stopped
// and none of them may be left running.
import { afterEach, expect } from "vitest"
import { Sam, type SamOptions } from "../../src/runtime/sam.ts"
import { survivors } from "./runtime.ts"

export const samPerTest = (): ((options: SamOptions) => Sam) => {
  let current: Sam | undefined
  const pids = new Set<number>()
  afterEach(async () => {
    await current?.stop({ timeoutMs: 2_000 })
    current = undefined
    expect(survivors(pids)).toEqual([])
    pids.clear()
  })
  return (options) => {
    const sam = new Sam(options)
    sam.events.subscribe((e) => {
      if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
    })
    current = sam
    return sam
  }
}
