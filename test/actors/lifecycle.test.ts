import { describe, expect, it } from "vitest"
import { createActor, fromCallback, fromPromise, waitFor } from "xstate"
import { type LifecycleEvent, lifecycleMachine, topState } from "../../src/actors/lifecycle.machine.ts"

// The machine on its own, with instant actors: the runtime's effects are replaced by
// promises we control, so every transition is checked without processes.
const machine = (spawn: () => Promise<{ pid?: number }> = async () => ({ pid: 42 })) =>
  lifecycleMachine.provide({
    actors: {
      spawnInstance: fromPromise(spawn),
      stopInstance: fromPromise(async () => {}),
      watchHealth: fromCallback<LifecycleEvent, { id: string }>(() => () => {}),
    },
  })

const settle = () => new Promise((r) => setTimeout(r, 0))

describe("lifecycle machine", () => {
  it("goes stopped → starting → running.unready → running.ready on start and a passing probe", async () => {
    const actor = createActor(machine(), { input: { id: "svc" } }).start()
    actor.send({ type: "START" })
    expect(actor.getSnapshot().value).toBe("starting")
    await settle()
    expect(actor.getSnapshot().value).toEqual({ running: "unready" })
    expect(actor.getSnapshot().context.pid).toBe(42)
    actor.send({ type: "PROBE_PASSED" })
    expect(actor.getSnapshot().value).toEqual({ running: "ready" })
    actor.send({ type: "PROBE_FAILED", detail: "503" })
    expect(actor.getSnapshot().value).toEqual({ running: "unready" })
    expect(actor.getSnapshot().context.reason).toBe("503")
  })

  it("refuses commands that make no sense (the runtime checks can() and reports the state)", async () => {
    const actor = createActor(machine(), { input: { id: "svc" } }).start()
    expect(actor.getSnapshot().can({ type: "STOP" })).toBe(false)
    expect(actor.getSnapshot().can({ type: "SUSPEND" })).toBe(false)
    expect(actor.getSnapshot().can({ type: "RESUME" })).toBe(false)
    actor.send({ type: "START" })
    await settle()
    expect(actor.getSnapshot().can({ type: "START" })).toBe(false)
    expect(actor.getSnapshot().can({ type: "RESUME" })).toBe(false)
    expect(actor.getSnapshot().can({ type: "SUSPEND" })).toBe(true)
  })

  it("an exit while running waits in error for the supervisor, which decides backoff, crash or stop", async () => {
    const actor = createActor(machine(), { input: { id: "svc" } }).start()
    actor.send({ type: "START" })
    await settle()
    actor.send({ type: "EXITED", code: 1, signal: null })
    expect(actor.getSnapshot().value).toBe("error")
    expect(actor.getSnapshot().context).toMatchObject({ failure: "exit", reason: "exited with code 1" })
    actor.send({ type: "RETRY", delayMs: 5, reason: "restart in 5 ms" })
    expect(actor.getSnapshot().value).toBe("backoff")
    await waitFor(actor, (s) => topState(s.value) === "running")
    actor.send({ type: "EXITED", code: null, signal: "SIGKILL" })
    actor.send({ type: "GIVE_UP", reason: "too many restarts" })
    expect(actor.getSnapshot().value).toBe("crashed")
  })

  it("a failed spawn lands in error with the driver's message", async () => {
    const actor = createActor(
      machine(async () => {
        throw new Error('command not found: "nope"')
      }),
      { input: { id: "svc" } },
    ).start()
    actor.send({ type: "START" })
    await settle()
    expect(actor.getSnapshot().value).toBe("error")
    expect(actor.getSnapshot().context).toMatchObject({
      failure: "spawn",
      reason: 'spawn failed: command not found: "nope"',
    })
  })

  it("liveness failure, a missed heartbeat or a resource limit stop the instance and fail it with the reason", async () => {
    for (const [event, failure] of [
      [{ type: "LIVENESS_FAILED", detail: "no answer" }, "liveness"],
      [{ type: "HEARTBEAT_MISSED" }, "heartbeat"],
      [{ type: "RESOURCE_EXCEEDED", resource: "memory", detail: "rss 600 MB > 512 MB" }, "memory"],
    ] as const) {
      const actor = createActor(machine(), { input: { id: "svc" } }).start()
      actor.send({ type: "START" })
      await settle()
      actor.send(event)
      expect(actor.getSnapshot().value).toBe("stopping")
      await settle()
      expect(actor.getSnapshot().value).toBe("error")
      expect(actor.getSnapshot().context.failure).toBe(failure)
    }
  })

  it("persists its snapshot and restores into the same state", async () => {
    const actor = createActor(machine(), { input: { id: "svc" } }).start()
    actor.send({ type: "START" })
    await settle()
    actor.send({ type: "SUSPEND" })
    const saved = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()))
    const restored = createActor(machine(), { input: { id: "svc" }, snapshot: saved }).start()
    expect(restored.getSnapshot().value).toBe("suspended")
    expect(restored.getSnapshot().context.pid).toBe(42)
  })
})
