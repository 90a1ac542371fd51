import { spawn } from "node:child_process"
import { once } from "node:events"
import { describe, expect, it } from "vitest"
import {
  clockTicksPerSecond,
  cpuSeconds,
  isAlive,
  listPids,
  pageSize,
  parseStat,
  processStartTime,
  readEnviron,
  readStat,
  residentBytes,
} from "../../src/runtime/os/proc.ts"

const linux = process.platform === "linux"

describe("/proc stat lines", () => {
  it("are parsed after the last ')', so a command name with spaces and parentheses cannot shift fields", () => {
    const line =
      "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123456 1000 250 18446744073709551615"
    expect(parseStat(4242, line)).toEqual({
      pid: 4242,
      ppid: 1,
      pgrp: 4242,
      session: 4242,
      state: "S",
      utimeTicks: 7,
      stimeTicks: 3,
      startTime: "123456",
      rssPages: 250,
    })
    expect(parseStat(1, "garbage")).toBeUndefined()
  })
})

describe.runIf(linux)("/proc of a live process", () => {
  it("tells its group, start time, memory, CPU and environment; a reaped child is not alive", async () => {
    const child = spawn("sleep", ["30"], {
      detached: true,
      stdio: "ignore",
      env: { SAM_PROBE: "x=y", PATH: process.env.PATH ?? "" },
    })
    await once(child, "spawn")
    const pid = child.pid as number
    // 'spawn' can come while the child is still inside exec (no memory mapped yet): wait until
    // /proc shows the sleep program itself.
    const deadline = Date.now() + 5_000
    while (!readStat(pid)?.rssPages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    try {
      expect(readStat(pid)).toMatchObject({ pid, ppid: process.pid, pgrp: pid, session: pid })
      expect(processStartTime(pid)).toMatch(/^\d+$/)
      expect(listPids()).toContain(pid)
      expect(readEnviron(pid)?.get("SAM_PROBE")).toBe("x=y")
      expect(residentBytes(pid)).toBeGreaterThan(0)
      expect(cpuSeconds(pid)).toBeGreaterThanOrEqual(0)
      expect(isAlive(pid)).toBe(true)
      expect(clockTicksPerSecond()).toBe(100)
      expect(pageSize() % 4096).toBe(0)
    } finally {
      child.kill("SIGKILL")
      await once(child, "exit")
    }
    expect(isAlive(pid)).toBe(false)
    expect(readEnviron(pid)).toBeUndefined()
    expect(processStartTime(pid)).toBe("")
  })
})
