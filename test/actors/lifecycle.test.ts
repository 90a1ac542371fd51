import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { createActor, fromCallback, fromPromise, waitFor } from "xstate"
import {
  type LifecycleEvent,
  lifecycleMachine,
  publicState,
  type StopInput,
  type StopOutcome,
} from "../../src/actors/lifecycle.machine.ts"

// The machine on its own: the runtime's work is replaced by actors the test controls, so every
// transition is checked without processes.
interface Controls {
  spawn: Array<(result: { pid?: number } | Error) => void>
  stops: StopInput[]
  finishStop: Array<(outcome?: StopOutcome) => void>
  waits: Array<() => void>
  escalations: number
}

const build = () => {
  const controls: Controls = { spawn: [], stops: [], finishStop: [], waits: [], escalations: 0 }
  const machine = lifecycleMachine.provide({
    actors: {
      spawnInstance: fromPromise<{ pid?: number }, { id: string }>(
        () =>
          new Promise((resolve, reject) =>
            controls.spawn.push((r) => (r instanceof Error ? reject(r) : resolve(r))),
          ),
      ),
      stopInstance: fromCallback<LifecycleEvent, StopInput>(({ input, sendBack }) => {
        controls.stops.push(input)
        controls.finishStop.push((outcome = {}) => sendBack({ type: "STOPPED", ...outcome }))
      }),
      watchHealth: fromCallback<LifecycleEvent, { id: string }>(() => () => {}),
      wait: fromPromise<void, { delayMs: number }>(
        () => new Promise((resolve) => controls.waits.push(resolve)),
      ),
    },
    actions: { escalate: () => void controls.escalations++ },
  })
  const actor = createActor(machine, { input: { id: "svc" } }).start()
  return { actor, controls }
}

const settle = () => new Promise((r) => setTimeout(r, 0))

/** The cell vocabulary of docs/LIFECYCLE.md: a state name with its finer detail. */
const describeState = (value: unknown): string => {
  const view = publicState(value)
  if (view.state === "stopping") {
    const intent = {
      toStopped: "stopped",
      toRestart: "restart",
      toFail: "fail",
      toCrash: "crashed",
      toShutdown: "shutdown",
    }
    return `stopping (to ${intent[view.stopIntent!]})`
  }
  if (view.state === "crashed" && view.retrying) return "crashed (retrying)"
  return view.state
}

/** Drive a fresh machine into the row's state. */
const reach = async (row: string) => {
  const m = build()
  const { actor, controls } = m
  const send = (e: LifecycleEvent) => actor.send(e)
  const running = async () => {
    send({ type: "START" })
    controls.spawn.at(-1)!({ pid: 42 })
    await settle()
  }
  switch (row) {
    case "stopped":
      break
    case "starting":
      send({ type: "START" })
      break
    case "running":
      await running()
      break
    case "suspended":
      await running()
      send({ type: "SUSPEND" })
      break
    case "stopping (to stopped)":
      await running()
      send({ type: "STOP" })
      break
    case "stopping (to restart)":
      await running()
      send({ type: "RESTART" })
      break
    case "stopping (to fail)":
      await running()
      send({ type: "LIVENESS_FAILED", detail: "dead" })
      break
    case "stopping (to crashed)":
      await running()
      send({ type: "GROUP_SHUTDOWN", reason: "group g shut down" })
      break
    case "stopping (to shutdown)":
      await running()
      send({ type: "SHUTDOWN", reason: "SAM is stopping" })
      break
    case "error":
      await running()
      send({ type: "EXITED", code: 1, signal: null })
      break
    case "backoff":
      await running()
      send({ type: "EXITED", code: 1, signal: null })
      send({ type: "RETRY", delayMs: 10, reason: "restart in 10 ms" })
      break
    case "crashed":
      await running()
      send({ type: "EXITED", code: 1, signal: null })
      send({ type: "GIVE_UP", reason: "too many restarts" })
      break
    case "crashed (retrying)":
      await running()
      send({ type: "EXITED", code: 1, signal: null })
      send({ type: "RETRY_LATER", delayMs: 300_000, reason: "retrying in 300s" })
      break
    default:
      throw new Error(`no way to reach "${row}"`)
  }
  expect(describeState(actor.getSnapshot().value)).toBe(row)
  return m
}

const commands: Record<string, LifecycleEvent> = {
  start: { type: "START" },
  stop: { type: "STOP" },
  "stop --force": { type: "STOP", graceful: false },
  restart: { type: "RESTART" },
  suspend: { type: "SUSPEND" },
  resume: { type: "RESUME" },
  "SAM shutdown": { type: "SHUTDOWN", reason: "SAM is stopping" },
  "group shutdown": { type: "GROUP_SHUTDOWN", reason: "group g shut down" },
  "files changed": { type: "REFRESH", reason: "its files changed (server.mjs)" },
}
const operatorCommands = new Set(["start", "stop", "stop --force", "restart", "suspend", "resume"])

/** The state × command table as docs/LIFECYCLE.md writes it. */
const documentedTable = () => {
  const text = readFileSync(new URL("../../docs/LIFECYCLE.md", import.meta.url), "utf8")
  const lines = text.slice(text.indexOf("<!-- lifecycle-table -->")).split("\n").slice(1)
  const rows = lines
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    )
  const [header, , ...body] = rows
  return { columns: header!.slice(1), body }
}

describe("lifecycle machine: the state × command table of docs/LIFECYCLE.md", () => {
  const { columns, body } = documentedTable()
  it("documents every state and every command", () => {
    expect(columns).toEqual(Object.keys(commands))
    expect(body.map((r) => r[0])).toEqual([
      "stopped",
      "starting",
      "running",
      "suspended",
      "stopping (to stopped)",
      "stopping (to restart)",
      "stopping (to fail)",
      "stopping (to crashed)",
      "stopping (to shutdown)",
      "backoff",
      "error",
      "crashed",
      "crashed (retrying)",
    ])
  })

  for (const [row, ...cells] of body) {
    for (const [i, cell] of cells.entries()) {
      const command = columns[i]!
      it(`${row} × ${command}: ${cell}`, async () => {
        const { actor, controls } = await reach(row!)
        const event = commands[command]!
        const before = describeState(actor.getSnapshot().value)
        const stopsBefore = controls.stops.length
        const accepted = actor.getSnapshot().can(event)
        actor.send(event)
        const after = describeState(actor.getSnapshot().value)
        if (cell === "409") {
          expect(accepted).toBe(false)
          expect(after).toBe(before)
          return
        }
        const killed = cell.startsWith("SIGKILL; ")
        const target = killed ? cell.slice("SIGKILL; ".length) : cell
        if (target === "stays") {
          expect(after).toBe(before)
          if (operatorCommands.has(command)) expect(accepted).toBe(true)
        } else expect(after).toBe(target)
        if (killed) {
          const forcedAtStart = controls.stops.length > stopsBefore && controls.stops.at(-1)!.force
          expect(forcedAtStart || controls.escalations > 0).toBe(true)
        } else expect(controls.escalations).toBe(0)
      })
    }
  }
})

describe("lifecycle machine: where a finished stop leads", () => {
  const ends: Array<[string, string]> = [
    ["stopping (to stopped)", "stopped"],
    ["stopping (to restart)", "starting"],
    ["stopping (to fail)", "error"],
    ["stopping (to crashed)", "crashed"],
    ["stopping (to shutdown)", "stopped"],
  ]
  for (const [from, to] of ends) {
    it(`${from} → ${to}`, async () => {
      const { actor, controls } = await reach(from)
      controls.finishStop.at(-1)!()
      expect(describeState(actor.getSnapshot().value)).toBe(to)
    })
  }

  it("the stop actor runs once however often the intent changes", async () => {
    const { actor, controls } = await reach("stopping (to stopped)")
    actor.send({ type: "START" })
    actor.send({ type: "STOP" })
    actor.send({ type: "RESTART" })
    expect(controls.stops).toHaveLength(1)
    controls.finishStop[0]!()
    expect(describeState(actor.getSnapshot().value)).toBe("starting")
  })
})

describe("lifecycle machine: facts", () => {
  it("goes stopped → starting → running.unready → running.ready on start and a passing probe", async () => {
    const { actor, controls } = build()
    actor.send({ type: "START" })
    expect(publicState(actor.getSnapshot().value).state).toBe("starting")
    controls.spawn[0]!({ pid: 42 })
    await settle()
    expect(publicState(actor.getSnapshot().value)).toMatchObject({ state: "running", readiness: "unready" })
    expect(actor.getSnapshot().context.pid).toBe(42)
    // Not ready yet and failing its check: it stays unready, and its reason says why.
    actor.send({ type: "PROBE_FAILED", detail: "HTTP 503" })
    expect(publicState(actor.getSnapshot().value).readiness).toBe("unready")
    expect(actor.getSnapshot().context.reason).toBe("HTTP 503")
    actor.send({ type: "PROBE_PASSED" })
    expect(publicState(actor.getSnapshot().value).readiness).toBe("ready")
    actor.send({ type: "PROBE_FAILED", detail: "503" })
    expect(publicState(actor.getSnapshot().value).readiness).toBe("unready")
    expect(actor.getSnapshot().context.reason).toBe("503")
  })

  it("an exit while running waits in error for the supervisor; backoff ends in starting", async () => {
    const { actor, controls } = await reach("running")
    actor.send({ type: "EXITED", code: 1, signal: null })
    expect(describeState(actor.getSnapshot().value)).toBe("error")
    expect(actor.getSnapshot().context).toMatchObject({ failure: "exit", reason: "exited with code 1" })
    actor.send({ type: "RETRY", delayMs: 5, reason: "restart in 5 ms" })
    expect(actor.getSnapshot().context.delayMs).toBe(5)
    controls.waits.at(-1)!()
    await waitFor(actor, (s) => publicState(s.value).state === "starting")
  })

  it("a crashed unit that retries starts again when its wait is over", async () => {
    const { actor, controls } = await reach("crashed (retrying)")
    expect(actor.getSnapshot().context.delayMs).toBe(300_000)
    controls.waits.at(-1)!()
    await waitFor(actor, (s) => publicState(s.value).state === "starting")
  })

  it("a failed spawn lands in error with the driver's message", async () => {
    const { actor, controls } = build()
    actor.send({ type: "START" })
    controls.spawn[0]!(new Error("command not found: nope"))
    await waitFor(actor, (s) => publicState(s.value).state === "error")
    expect(actor.getSnapshot().context).toMatchObject({
      failure: "spawn",
      reason: "start failed: command not found: nope",
    })
  })

  it("liveness, heartbeat and memory failures stop the instance, then wait in error", async () => {
    for (const [event, failure] of [
      [{ type: "LIVENESS_FAILED", detail: "3 failures" }, "liveness"],
      [{ type: "HEARTBEAT_MISSED" }, "heartbeat"],
      [{ type: "RESOURCE_EXCEEDED", resource: "memory", detail: "over 256 MB" }, "memory"],
    ] as const) {
      const { actor, controls } = await reach("running")
      actor.send(event)
      expect(describeState(actor.getSnapshot().value)).toBe("stopping (to fail)")
      // A missed heartbeat is a blocked loop that cannot handle SIGTERM: SIGKILL at once.
      expect(controls.stops.at(-1)?.force).toBe(failure === "heartbeat")
      controls.finishStop.at(-1)!()
      expect(describeState(actor.getSnapshot().value)).toBe("error")
      expect(actor.getSnapshot().context.failure).toBe(failure)
    }
  })

  it("a kill for a limit has the exit of SAM's stop, said in the reason; never an earlier exit", async () => {
    const { actor, controls } = await reach("running")
    actor.send({
      type: "RESOURCE_EXCEEDED",
      resource: "memory",
      detail: "memory: RSS 466 MB exceeds max_memory_mb 300",
    })
    controls.finishStop.at(-1)!({ exit: { code: 0, signal: null }, sent: "SIGTERM" })
    expect(actor.getSnapshot().context).toMatchObject({
      failure: "memory",
      lastExit: { code: 0, signal: null },
      reason: "memory: RSS 466 MB exceeds max_memory_mb 300; SAM stopped it with SIGTERM: exited with code 0",
    })
    // Past its grace, SIGKILL ended it: that is said instead.
    const again = await reach("running")
    again.actor.send({ type: "EXITED", code: 3, signal: null })
    again.actor.send({ type: "RETRY", delayMs: 0, reason: "restart" })
    again.controls.waits.at(-1)!()
    await waitFor(again.actor, (s) => publicState(s.value).state === "starting")
    again.controls.spawn.at(-1)!({ pid: 2 })
    await waitFor(again.actor, (s) => publicState(s.value).state === "running")
    again.actor.send({ type: "LIVENESS_FAILED", detail: "liveness check failed 3 times" })
    expect(again.actor.getSnapshot().context.lastExit).toBeUndefined()
    again.controls.finishStop.at(-1)!({
      exit: { code: null, signal: "SIGKILL" },
      sent: "SIGTERM",
      killed: "SIGKILLed: it did not exit within its 1s grace after SIGTERM",
    })
    expect(again.actor.getSnapshot().context).toMatchObject({
      lastExit: { code: null, signal: "SIGKILL" },
      reason: "liveness check failed 3 times; SIGKILLed: it did not exit within its 1s grace after SIGTERM",
    })
  })

  it("an exit while suspended is a failure like any other", async () => {
    const { actor } = await reach("suspended")
    actor.send({ type: "EXITED", code: null, signal: "SIGKILL" })
    expect(describeState(actor.getSnapshot().value)).toBe("error")
    expect(actor.getSnapshot().context.reason).toBe("exited on SIGKILL while suspended")
  })
})
