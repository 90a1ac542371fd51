// createSam owns its state dir: it takes the lock before anything else and opens the runtime
// store (sam.store); a second SAM on the same dir is refused before it writes a byte; stop()
// records a clean stop, closes the store and gives the state dir up.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { createSam } from "../../../src/app/createSam.ts"
import { acquireStateDir, StateDirInUse } from "../../../src/runtime/store/stateDirLock.ts"
import { waitUntil } from "../../support/containment.ts"
import { fixture, survivors } from "../../support/runtime.ts"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const config = (stateDir: string) => ({
  runtime: { state_dir: stateDir },
  services: {
    web: {
      deployment: {
        mode: "process" as const,
        command: process.execPath,
        args: [fixture("http-service.mjs")],
      },
    },
  },
})

const snapshot = (dir: string): Array<string> =>
  readdirSync(dir)
    .sort()
    .map((name) => `${name} ${statSync(join(dir, name)).size} ${statSync(join(dir, name)).mtimeMs}`)

describe("createSam and its state dir", () => {
  it("a second SAM on the same state dir is refused before it touches anything", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sam-own-"))
    dirs.push(stateDir)
    const sam = await createSam(config(stateDir), { plugins: false })
    expect((await sam.start()).ready).toEqual(["web"])
    const pid = sam.services.status("web").pid as number
    expect(sam.store.samRuns.get(sam.samId)).toMatchObject({ pid: process.pid, stoppedAt: null })
    // The first SAM's own writes are done: web's first output line made its log file.
    expect(await waitUntil(() => readdirSync(join(stateDir, "logs")).length > 0, 10_000)).toBe(true)
    const before = snapshot(stateDir)

    await expect(createSam(config(stateDir), { plugins: false })).rejects.toBeInstanceOf(StateDirInUse)
    await expect(createSam(config(stateDir), { plugins: false })).rejects.toThrow(
      `state dir ${stateDir} is in use by a SAM of this process (pid ${process.pid}) that was not stopped`,
    )
    expect(snapshot(stateDir)).toEqual(before)
    expect(survivors([pid])).toEqual([pid])

    const samId = sam.samId
    await sam.stop()
    expect(survivors([pid])).toEqual([])
    expect(() => sam.store.samRuns.list()).toThrow(/is closed/)
    // The state dir is free, and the run is recorded as stopped cleanly.
    const next = await createSam(config(stateDir), { plugins: false })
    expect(next.store.samRuns.get(samId)?.stoppedAt).toEqual(expect.any(String))
    expect(next.store.samRuns.unclean(next.samId)).toEqual([])
    await next.stop()
    const lock = acquireStateDir(stateDir)
    lock.release()
  })
})

describe("createSam with a state dir already taken (what sam start does)", () => {
  it("adopts the lock of its state dir, and refuses (releasing it) the lock of another dir", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sam-adopt-"))
    const other = mkdtempSync(join(tmpdir(), "sam-other-"))
    dirs.push(stateDir, other)
    const wrong = acquireStateDir(other)
    await expect(createSam(config(stateDir), { plugins: false, stateDirLock: wrong })).rejects.toThrow(
      `createSam: stateDirLock holds ${other}, but the config's state dir is ${stateDir}: take the lock of runtime.state_dir`,
    )
    acquireStateDir(other).release()

    const sam = await createSam(config(stateDir), { plugins: false, stateDirLock: acquireStateDir(stateDir) })
    expect(() => acquireStateDir(stateDir)).toThrow(StateDirInUse)
    await sam.stop()
    acquireStateDir(stateDir).release()
  })
})
