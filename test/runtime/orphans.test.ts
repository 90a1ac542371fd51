import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { afterEach, describe, expect, it } from "vitest"
import { createSam } from "../../src/app/createSam.ts"
import { reapLeftovers } from "../../src/runtime/orphanReaper.ts"
import { processStartTime, readStat } from "../../src/runtime/os/proc.ts"
import { openRuntimeStore } from "../../src/runtime/store/runtimeStore.ts"
import { fixturePath, type Project, project } from "../support/daemon.ts"
import { survivors } from "../support/runtime.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

/** SAM's reaper: its child running reaper.sh. */
const reaperOf = (samPid: number): number | undefined =>
  readdirSync("/proc")
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && readStat(pid)?.ppid === samPid)
    .find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("reaper.sh")
      } catch {
        return false
      }
    })

/**
 * A SAM running a service whose tree escapes its process group (setsid, double fork), killed hard
 * with its reaper: the escaped pids, still running.
 */
const dieHardWithEscapedTree = async (): Promise<Array<number>> => {
  p = project()
  const treeFile = join(p.dir, "tree.json")
  p.writeConfig({
    services: {
      tree: {
        deployment: {
          mode: "process",
          command: process.execPath,
          args: [fixturePath("escaping-tree.mjs")],
          env: { TREE_FILE: treeFile },
        },
      },
    },
  })
  const sam = await p.start()
  await sam.waitForOutput("1/1 units ready")
  const deadline = Date.now() + 10_000
  while (!existsSync(treeFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const tree = JSON.parse(readFileSync(treeFile, "utf8")) as { setsid: number; doubleFork: number }
  const escaped = [tree.setsid, tree.doubleFork]
  for (const pid of escaped) p.pids.add(pid)
  const reaper = reaperOf(sam.pid)
  expect(reaper).toBeDefined()
  process.kill(reaper as number, "SIGKILL")
  sam.child.kill("SIGKILL")
  await sam.exited
  return escaped
}

describe("a SAM that dies hard together with its reaper", () => {
  it("leaves grandchildren in its cells, and the next SAM on the same state dir sweeps them before it starts", async () => {
    const escaped = await dieHardWithEscapedTree()
    // The leader died with SAM (parent-death signal); the setsid grandchildren did not.
    expect(survivors(escaped)).toEqual(escaped)

    const next = await createSam(join((p as Project).dir, "sam.config.json"), { plugins: false })
    expect(survivors(escaped)).toEqual([])
    const reaped = next.events.since(0).find((e) => e.type === "supervisor" && e.action === "orphans-reaped")
    expect(reaped).toMatchObject({ detail: expect.stringContaining("process(es) of its cells") })
    await next.stop()
  })

  it("`sam start` says on its console what it stopped of a SAM that died hard, not only in sam.log", async () => {
    const escaped = await dieHardWithEscapedTree()
    const next = await (p as Project).start()
    await next.waitForOutput(
      /^sam: stopped what a previous SAM that did not stop cleanly left running: .*process\(es\) of its cells$/m,
    )
    expect(survivors(escaped)).toEqual([])
    await next.waitForOutput("press Ctrl+C")
    next.child.kill("SIGTERM")
    expect(await next.exited).toBe(0)
  })
})

describe("the next SAM's sweep of recorded leaders", () => {
  it("does not report, nor wait for, a leader that is only a zombie with nothing left in its group", async () => {
    // A group leader that exited under a parent that never reaps it: what a unit's leader is for
    // the moment between SAM's death and init reaping it.
    const parent = spawn("sh", ["-c", "(exec setsid sleep 0) & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    })
    const dir = mkdtempSync(join(tmpdir(), "sam-zombie-"))
    const store = openRuntimeStore(dir)
    try {
      const lines = createInterface({ input: parent.stdout })
      const [line] = await new Promise<Array<string>>((resolve) => lines.once("line", (l) => resolve([l])))
      const zombie = Number(line)
      const deadline = Date.now() + 10_000
      while (readStat(zombie)?.state !== "Z" && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10))
      expect(readStat(zombie)?.state).toBe("Z")
      store.instances.upsert({
        unit: "web",
        instance: 0,
        pid: zombie,
        startTime: processStartTime(zombie),
        cell: "",
        port: null,
        startedAt: new Date().toISOString(),
      })
      const report = await reapLeftovers(store, "sam-next")
      expect(report.leaders).toEqual([])
      expect(store.instances.list()).toEqual([])
    } finally {
      store.close()
      parent.kill("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
