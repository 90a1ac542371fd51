import { afterEach, describe, expect, it } from "vitest"
import { readStat } from "../../src/runtime/os/proc.ts"
import { type Harness, harness, nodeService, survivors } from "../support/runtime.ts"

let h: Harness | undefined
afterEach(async () => {
  if (!h) return
  await h.dispose()
  expect(survivors(h.pids)).toEqual([])
  h = undefined
})

const grandchildOf = async (h: Harness, unit: string) =>
  Number((await h.nextLine(unit, (l) => l.includes("grandchild "))).split("grandchild ")[1])

describe("graceful stop", () => {
  it("a child that ignores SIGTERM is SIGKILLed after its grace period, with its grandchild", async () => {
    h = harness([
      nodeService("stubborn", "stubborn.mjs", { stop: { graceMs: 300 } }),
      nodeService("polite", "http-service.mjs", { stop: { graceMs: 300 } }),
    ])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("stubborn").pid as number
    const grandchild = await grandchildOf(h, "stubborn")
    h.pids.add(grandchild)
    expect(survivors([pid, grandchild])).toEqual([pid, grandchild])

    const began = Date.now()
    await h.supervisor.command("stubborn", "stop")
    expect(Date.now() - began).toBeGreaterThanOrEqual(300)
    expect(survivors([pid, grandchild])).toEqual([])
    expect(h.supervisor.status("stubborn").state).toBe("stopped")
    // Said, not only done: the stop had to SIGKILL it.
    expect(h.supervisor.status("stubborn").instances[0]?.reason).toBe(
      "stop; SIGKILLed: it did not exit within its 0.3s grace after SIGTERM",
    )
    // One that exits on its signal is just stopped.
    await h.supervisor.command("polite", "stop")
    expect(h.supervisor.status("polite").instances[0]?.reason).toBe("stop")
  })

  it("keeps showing the pid of the process while it stops, and none once it is stopped", async () => {
    h = harness([nodeService("stubborn", "stubborn.mjs", { stop: { graceMs: 2_000 } })])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("stubborn").pid as number
    h.pids.add(await grandchildOf(h, "stubborn"))
    const stop = h.supervisor.command("stubborn", "stop")
    // It has its SIGTERM: SAM has let go of its handle and waits out the grace.
    await h.nextLine("stubborn", (l) => l.includes("parent ignoring SIGTERM"))
    expect(h.supervisor.status("stubborn")).toMatchObject({ state: "stopping", pid })
    await stop
    expect(h.supervisor.status("stubborn").pid).toBeUndefined()
  })

  it("a child that handles SIGTERM but exits after its grace is said to have outlived its grace, not ignored the signal", async () => {
    h = harness([
      nodeService("slow", "slow-exit.mjs", { stop: { graceMs: 300 }, env: { EXIT_AFTER_MS: "3000" } }),
    ])
    await h.supervisor.startAll()
    await h.nextLine("slow", (l) => l.includes("slow-exit up"))
    await h.supervisor.command("slow", "stop")
    expect(h.supervisor.status("slow").instances[0]?.reason).toBe(
      "stop; SIGKILLed: it did not exit within its 0.3s grace after SIGTERM",
    )
  })

  it("a grandchild left behind when its parent crashes is killed with the group", async () => {
    h = harness([nodeService("stubborn", "stubborn.mjs", { restart: { type: "temporary" } })])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("stubborn").pid as number
    const grandchild = await grandchildOf(h, "stubborn")
    h.pids.add(grandchild)
    process.kill(pid, "SIGKILL")
    await h.next((e) => e.type === "transition" && e.unit === "stubborn" && e.to === "stopped")
    expect(survivors([grandchild])).toEqual([])
  })

  it("suspend stops the process group with SIGSTOP and resume continues it", async () => {
    h = harness([nodeService("sleepy", "http-service.mjs")])
    await h.supervisor.startAll()
    const pid = h.supervisor.status("sleepy").pid as number
    await h.supervisor.command("sleepy", "suspend")
    expect(h.supervisor.status("sleepy").state).toBe("suspended")
    expect(procState(pid)).toBe("T")
    await h.supervisor.command("sleepy", "resume")
    expect(h.supervisor.status("sleepy").state).toBe("running")
    expect(procState(pid)).not.toBe("T")
  })

  it("a command that makes no sense in the current state is refused with the state named", async () => {
    h = harness([nodeService("svc", "http-service.mjs")])
    await h.supervisor.startAll()
    await expect(h.supervisor.command("svc", "start")).rejects.toMatchObject({
      _tag: "CommandRefused",
      state: "running",
      message: 'cannot start "svc": it is running',
    })
    await expect(h.supervisor.command("svc", "resume")).rejects.toMatchObject({ _tag: "CommandRefused" })
    await expect(h.supervisor.command("nope", "start")).rejects.toMatchObject({ _tag: "UnitNotFound" })
  })
})

const procState = (pid: number): string => readStat(pid)?.state ?? "?"
