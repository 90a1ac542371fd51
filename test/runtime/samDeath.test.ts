import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { afterEach, describe, expect, it } from "vitest"
import { detectContainment } from "../../src/runtime/containment/detectContainment.ts"
import { startReaper, sweepLeftovers } from "../../src/runtime/containment/reaper.ts"
import type { ContainmentMode, ContainmentRecord } from "../../src/runtime/containment/types.ts"
import { isAlive } from "../../src/runtime/os/proc.ts"
import {
  availableModes,
  killLearned,
  survivors,
  type TreePids,
  treePids,
  waitUntil,
} from "../support/containment.ts"
import { fixture } from "../support/runtime.ts"

const modes = await availableModes()
for (const m of modes) {
  if (!m.available) console.info(`SAM-death tests for ${m.mode} are skipped on this host: ${m.reason}`)
}
const nobodyExists = readFileSync("/etc/passwd", "utf8").includes(":65534:65534:")
const runAsNobody = nobodyExists && process.getuid?.() === 0
if (!runAsNobody) {
  console.info(`run_as cases skipped: ${nobodyExists ? "not root" : "no user nobody (65534) on this host"}`)
}

interface HarnessReport {
  readonly harness: number
  readonly reaper?: number
  readonly tree: TreePids
  readonly record: ContainmentRecord
  readonly cgroupDirs: ReadonlyArray<string>
}

const learned = new Set<number>()
const records: ContainmentRecord[] = []
afterEach(async () => {
  killLearned(learned)
  learned.clear()
  // Whatever a failed test left: the sweep is by the test's own SAM ids only.
  for (const record of records.splice(0)) await sweepLeftovers(record)
})

/** Run the stand-in SAM and learn every pid it reports. */
const startHarness = async (options: {
  mode: ContainmentMode
  reaper: boolean
  uid?: number
  gid?: number
}) => {
  const child = spawn(process.execPath, [fixture("containment-harness.ts"), JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
  })
  learned.add(child.pid as number)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const report = await new Promise<HarnessReport>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", (line) =>
      resolve(JSON.parse(line) as HarnessReport),
    )
    child.once("exit", (code, signal) =>
      reject(new Error(`harness exited (${code ?? signal}) before reporting`)),
    )
  })
  records.push(report.record)
  for (const pid of [...treePids(report.tree), ...(report.reaper === undefined ? [] : [report.reaper])])
    learned.add(pid)
  return { child, exited, report }
}

const allGone = (pids: ReadonlyArray<number>, dirs: ReadonlyArray<string>) =>
  survivors(pids).length === 0 && dirs.every((dir) => !existsSync(dir))

/** What is left, for a failure message. */
const leftOf = (pids: ReadonlyArray<number>, dirs: ReadonlyArray<string>) =>
  `alive: [${survivors(pids).join(", ")}], directories: [${dirs.filter((dir) => existsSync(dir)).join(", ")}]`

/**
 * After a sweep by record: nothing of the tree is left. In process-group mode the record names no
 * groups, so a process that kept the group but cleared its environment survives the sweep (the
 * documented escape; orphanReaper's recorded groups catch it at the next start).
 */
const expectSweptClean = async (mode: ContainmentMode, report: HarnessReport) => {
  const { leader, setsid, doubleFork, scrubbed } = report.tree
  const expected = mode === "process-group" ? [leader, setsid, doubleFork] : treePids(report.tree)
  const gone = await waitUntil(() => allGone(expected, report.record.cgroupDirs))
  expect(gone, leftOf(expected, report.record.cgroupDirs)).toBe(true)
  if (mode === "process-group") expect(isAlive(scrubbed)).toBe(true)
}

for (const { mode, available } of modes) {
  describe.runIf(available)(`SAM's death (${mode})`, () => {
    it("SAM killed with SIGKILL: within 3 s nothing of the tree is left, nor the reaper, nor a directory", async () => {
      const { child, exited, report } = await startHarness({ mode, reaper: true })
      const pids = treePids(report.tree)
      expect(survivors(pids)).toEqual(pids)
      child.kill("SIGKILL")
      await exited
      const everything = [...pids, report.reaper as number]
      const gone = await waitUntil(() => allGone(everything, report.record.cgroupDirs))
      expect(gone, leftOf(everything, report.record.cgroupDirs)).toBe(true)
    })

    it("the reaper killed first, then SAM: the direct child dies by pdeathsig, the next start's sweep cleans the rest", async () => {
      const { child, exited, report } = await startHarness({ mode, reaper: true })
      process.kill(report.reaper as number, "SIGKILL")
      expect(await waitUntil(() => !isAlive(report.reaper as number))).toBe(true)
      child.kill("SIGKILL")
      await exited
      expect(await waitUntil(() => !isAlive(report.tree.leader))).toBe(true)
      // Grandchildren have no parent-death signal: they wait for the sweep.
      const { setsid, doubleFork, scrubbed } = report.tree
      expect(survivors([setsid, doubleFork, scrubbed])).toHaveLength(3)

      const sweep = await sweepLeftovers(report.record)
      expect(sweep.killed).toEqual(expect.arrayContaining([setsid, doubleFork]))
      expect(sweep.removed).toEqual(report.record.cgroupDirs)
      expect(sweep.left).toEqual([])
      await expectSweptClean(mode, report)
    })

    it.runIf(runAsNobody)(
      "a child run as nobody still gets its parent-death SIGKILL (setpriv sets it after setuid)",
      async () => {
        const { child, exited, report } = await startHarness({ mode, reaper: false, uid: 65534, gid: 65534 })
        expect(readFileSync(`/proc/${report.tree.leader}/status`, "utf8")).toMatch(/^Uid:\t65534\t/m)
        child.kill("SIGKILL")
        await exited
        // No reaper here: only the kernel's pdeathsig can end the leader.
        expect(await waitUntil(() => !isAlive(report.tree.leader))).toBe(true)
        const sweep = await sweepLeftovers(report.record)
        expect(sweep.killed).toEqual(expect.arrayContaining([report.tree.setsid, report.tree.doubleFork]))
        await expectSweptClean(mode, report)
      },
    )
  })
}

describe("the reaper on a clean stop", () => {
  it("exits when SAM closes the pipe, after dispose, and leaves nothing", async () => {
    const containment = detectContainment()
    const reaper = startReaper(containment)
    learned.add(reaper.pid)
    expect(reaper.alive()).toBe(true)
    await containment.dispose()
    await reaper.close()
    expect(reaper.alive()).toBe(false)
    for (const dir of containment.record.cgroupDirs) expect(existsSync(dir)).toBe(false)
  })
})

describe("the reaper itself", () => {
  it("ignores the signals a closing terminal or a service manager sends, stays small, and still sweeps on close", async () => {
    const containment = detectContainment()
    const reaper = startReaper(containment)
    learned.add(reaper.pid)
    const status = () => readFileSync(`/proc/${reaper.pid}/status`, "utf8")
    // HUP 1, INT 2, PIPE 13, TERM 15: bits 0, 1, 12 and 14 of SigIgn.
    const ignored = () =>
      (BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(status())?.[1] ?? "0"}`) & 0x5003n) === 0x5003n
    expect(await waitUntil(ignored)).toBe(true)
    expect(Number(/^VmRSS:\s*(\d+) kB$/m.exec(status())?.[1])).toBeLessThan(4 * 1024)
    process.kill(reaper.pid, "SIGTERM")
    process.kill(reaper.pid, "SIGHUP")
    expect(reaper.alive()).toBe(true)
    await containment.dispose()
    await reaper.close()
    expect(reaper.alive()).toBe(false)
  })
})

describe("sweepLeftovers", () => {
  it("does nothing while the recorded SAM still runs, and touches only directories named for that SAM", async () => {
    const alive = detectContainment({ force: "process-group" })
    const running = { ...alive.record, samPid: process.ppid, samStartTime: readStartTime(process.ppid) }
    expect(await sweepLeftovers(running)).toMatchObject({ skipped: expect.stringContaining("still running") })
    await alive.dispose()

    const scratch = mkdtempSync(join(tmpdir(), "sam-sweep-"))
    try {
      const dead = { ...alive.record, samPid: 0, cgroupDirs: [scratch] }
      expect(await sweepLeftovers(dead)).toEqual({ killed: [], removed: [], left: [scratch] })
      expect(existsSync(scratch)).toBe(true)
      await expect(sweepLeftovers({ ...dead, samId: "x y" })).rejects.toMatchObject({
        _tag: "ContainmentError",
      })
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })
})

const readStartTime = (pid: number): string => {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8")
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[19] ?? ""
}
