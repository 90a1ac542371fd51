import { type AddressInfo, createServer } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import {
  type Harness,
  harness,
  httpCheck,
  nodeService,
  survivors,
  transitionsOf,
  waitFor,
} from "../support/runtime.ts"

let h: Harness | undefined
afterEach(async () => {
  if (!h) return
  await h.dispose()
  expect(survivors(h.pids)).toEqual([])
  h = undefined
})

describe("restart after a crash", () => {
  it("a service killed with SIGKILL is back and ready after its backoff", async () => {
    h = harness([nodeService("api", "http-service.mjs", { probes: [httpCheck()] })])
    const report = await h.supervisor.startAll()
    expect(report.ready).toEqual(["api"])
    const first = h.supervisor.status("api")
    expect(first.state).toBe("running")
    const pid = first.pid as number

    process.kill(pid, "SIGKILL")
    await h.next((e) => e.type === "transition" && e.unit === "api" && e.to === "backoff")
    const [runner] = h.supervisor.runners("api")
    await waitFor(runner!, (r) => r.state === "running" && r.ready)

    const after = h.supervisor.status("api")
    expect(after.pid).not.toBe(pid)
    expect(after.restarts).toBe(1)
    const error = h.events.find((e) => e.type === "transition" && e.unit === "api" && e.to === "error")
    expect(error && "reason" in error && error.reason).toBe("exited on SIGKILL")
    expect(transitionsOf(h.events, "api")).toEqual([
      "stopped->starting",
      "starting->running.unready",
      "running.unready->running.ready",
      "running.ready->error",
      "error->backoff",
      "backoff->starting",
      "starting->running.unready",
      "running.unready->running.ready",
    ])
  })

  it("a crash-looping child ends crashed after its intensity limit and the escalation is observable", async () => {
    h = harness([
      nodeService("flaky", "exit.mjs", {
        env: { EXIT_CODE: "3" },
        restart: { maxRestarts: 3, windowMs: 60_000, onExhausted: "give_up" },
      }),
    ])
    void h.supervisor.startAll()
    await h.next((e) => e.type === "transition" && e.unit === "flaky" && e.to === "crashed")
    const status = h.supervisor.status("flaky")
    expect(status.state).toBe("crashed")
    expect(status.restarts).toBe(3)
    const escalation = await h.next((e) => e.type === "supervisor" && e.action === "escalation")
    expect(escalation).toMatchObject({ group: "services" })
    expect(transitionsOf(h.events, "flaky").filter((t) => t === "error->backoff")).toHaveLength(3)
  })

  it("a start answers once a failed instance waits out its backoff, saying when SAM tries again, not after it", async () => {
    h = harness([
      nodeService("late", "exit.mjs", {
        env: { EXIT_CODE: "1", EXIT_AFTER_MS: "100" },
        probes: [httpCheck()],
        // A backoff far longer than the test: a start that waited it out would time out here.
        restart: { backoffBaseMs: 600_000, backoffMaxMs: 600_000 },
      }),
    ])
    const report = await h.supervisor.startAll()
    expect(report.ready).toEqual([])
    expect(report.notReady).toEqual([
      {
        id: "late",
        state: "backoff",
        reason: expect.stringMatching(/^exited with code 1; restart in \d+m\d\ds$/),
      },
    ])
  })

  it("a transient unit that exits cleanly is not restarted", async () => {
    h = harness([nodeService("job", "exit.mjs", { env: { EXIT_CODE: "0" }, restart: { type: "transient" } })])
    void h.supervisor.startAll()
    await h.next(
      (e) => e.type === "transition" && e.unit === "job" && e.to === "stopped" && e.from === "error",
    )
    expect(h.supervisor.status("job").restarts).toBe(0)
  })

  it("an exit code in no_restart_exit_codes prevents the restart of a permanent unit", async () => {
    h = harness([
      nodeService("cfg", "exit.mjs", { env: { EXIT_CODE: "78" }, restart: { preventExitCodes: [78] } }),
    ])
    void h.supervisor.startAll()
    const standDown = await h.next((e) => e.type === "supervisor" && e.action === "stand-down")
    expect(standDown).toMatchObject({
      detail: "exited with code 78; not restarted: exit code 78 is in no_restart_exit_codes",
    })
  })

  it("an exit code in restart_exit_codes forces the restart of a temporary unit", async () => {
    h = harness([
      nodeService("worker", "exit.mjs", {
        env: { EXIT_CODE: "75", EXIT_AFTER_MS: "20" },
        restart: { type: "temporary", forceExitCodes: [75], maxRestarts: 1 },
      }),
    ])
    void h.supervisor.startAll()
    await h.next((e) => e.type === "transition" && e.unit === "worker" && e.to === "backoff")
    await h.next((e) => e.type === "transition" && e.unit === "worker" && e.to === "crashed")
    expect(h.supervisor.status("worker").restarts).toBe(1)
  })

  it("the reason of a unit that dies quotes the last line it wrote to stderr", async () => {
    h = harness([
      nodeService("api", "exit.mjs", {
        env: {
          EXIT_CODE: "1",
          EXIT_MESSAGE: "Error: listen EADDRINUSE: address already in use 127.0.0.1:8080",
        },
        restart: { type: "temporary" },
      }),
    ])
    void h.supervisor.startAll()
    const failed = await h.next((e) => e.type === "transition" && e.unit === "api" && e.to === "error")
    expect(failed).toMatchObject({
      reason: "exited with code 1: Error: listen EADDRINUSE: address already in use 127.0.0.1:8080",
    })
    const facts = await h.next((e) => e.type === "instance.failed" && e.unit === "api")
    expect(facts).toMatchObject({ failure: "exit", exit_code: 1, signal: null, restarts: 0 })
  })

  it("a Node crash dump is quoted by its error line, not by the `Node.js vX` it ends with", async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      h = harness([
        nodeService("api", "listen-port.mjs", {
          env: { LISTEN_PORT: String(port) },
          restart: { type: "temporary" },
        }),
      ])
      void h.supervisor.startAll()
      const failed = await h.next((e) => e.type === "transition" && e.unit === "api" && e.to === "error")
      expect(failed).toMatchObject({
        reason: `exited with code 1: Error: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      })
      // What it did print last is Node's footer (the whole dump is in its log and crash report).
      expect(h.supervisor.runners("api")[0]?.output.last().at(-1)?.line).toMatch(/^Node\.js v\d+/)
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })
})
