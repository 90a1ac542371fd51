import { afterAll, afterEach, describe, expect, it } from "vitest"
import { capabilityProblem } from "../../src/api/problems.ts"
import { agentUnit, removeScratch, startAgents, stopAll, transitionTo } from "../support/agents.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

const transitions = (events: ReadonlyArray<{ type: string }>, unit: string) =>
  events.flatMap((e) =>
    e.type === "transition" && "unit" in e && e.unit === unit && "from" in e && "to" in e
      ? [`${e.from}->${e.to}`]
      : [],
  )

describe("resource limits are enforced", () => {
  it("an agent whose resident memory grows past max_memory_mb is restarted with reason memory", async () => {
    const h = await startAgents([agentUnit("hungry", { agent: { capabilities: ["hog"], maxMemoryMb: 200 } })])
    const firstPid = h.sam.agents.status("hungry").pid
    await h.sam.invoke("hog", {})
    const failed = await h.next(transitionTo("hungry", "error"))
    expect(failed).toMatchObject({
      reason: expect.stringMatching(/^memory: RSS \d+ MB exceeds max_memory_mb 200/),
    })
    await h.next((e) => e.type === "supervisor" && e.action === "restart" && e.unit === "hungry")
    await h.next((e) => transitionTo("hungry", "running.ready")(e) && e.id > failed.id)
    const after = h.sam.agents.status("hungry")
    expect(after.restarts).toBe(1)
    expect(after.pid).not.toBe(firstPid)
  })

  it("an agent that exhausts its V8 heap (max_memory_mb) is restarted with reason memory too", async () => {
    const h = await startAgents([agentUnit("heapy", { agent: { capabilities: ["heap"], maxMemoryMb: 96 } })])
    await h.sam.invoke("heap", {})
    const failed = await h.next(transitionTo("heapy", "error"))
    expect(failed).toMatchObject({ reason: expect.stringMatching(/^memory: /) })
    await h.next((e) => transitionTo("heapy", "running.ready")(e) && e.id > failed.id)
  })

  // The caller of a call in flight learns why the agent went away (its memory limit), not only that
  // it stopped. A worker's heap limit is exact; a child's V8 heap limit or SAM's RSS poll, whichever
  // comes first, ends a child growing its heap.
  it.each([
    [
      "worker",
      "heap",
      /^capability "heap" failed: agent heapw exited with code 1 \(memory: worker heap limit of max_memory_mb 64 reached \(Worker terminated due to reaching memory limit: JS heap out of memory\)\)$/,
    ],
    [
      "process",
      "heap",
      /^capability "heap" failed: agent heapp exited .* \((memory: V8 heap limit|SAM killed it: memory: RSS \d+ MB exceeds) .*max_memory_mb 96/,
    ],
    [
      "sandbox",
      "heap",
      /^capability "heap" failed: agent heaps exited .* \((memory: V8 heap limit|SAM killed it: memory: RSS \d+ MB exceeds) .*max_memory_mb 96/,
    ],
    [
      "process",
      "hog",
      /^capability "hog" failed: agent hogp exited .* \(SAM killed it: memory: RSS \d+ MB exceeds max_memory_mb 200\)$/,
    ],
  ] as const)(
    "a %s agent over max_memory_mb (%s) fails the call in flight saying so",
    async (runtime, capability, message) => {
      const id = `${capability}${runtime[0]}`
      const h = await startAgents([
        agentUnit(id, {
          runtime,
          agent: {
            capabilities: [capability],
            maxMemoryMb: capability === "hog" ? 200 : runtime === "worker" ? 64 : 96,
          },
        }),
      ])
      const error = await h.sam.invoke(capability, { hold: true }).catch((e: unknown) => e)
      expect(error).toMatchObject({
        _tag: "CapabilityError",
        reason: "failed",
        message: expect.stringMatching(message),
      })
      await h.next(transitionTo(id, "error", "memory: "))
    },
  )

  it("a busy-looping agent misses its heartbeats, becomes unready, and is restarted with reason heartbeat", async () => {
    const h = await startAgents([
      agentUnit("spinner", {
        agent: { capabilities: ["spin", "echo"], heartbeatIntervalMs: 100, heartbeatTtlMs: 1_200 },
        stop: { graceMs: 300 },
      }),
    ])
    const stuck = h.sam.invoke("spin", {}).catch((error: unknown) => error)
    const failed = await h.next(transitionTo("spinner", "error"))
    expect(failed).toMatchObject({
      reason: expect.stringMatching(/^heartbeat: none for \d+ ms \(ttl 1200 ms\)/),
    })
    // The caller of the stuck invocation learns that the agent went away, and why.
    expect(await stuck).toMatchObject({
      reason: "failed",
      message: expect.stringMatching(
        /agent spinner exited on SIGKILL \(SAM killed it: heartbeat: none for \d+ ms \(ttl 1200 ms\)/,
      ),
    })
    await h.next((e) => transitionTo("spinner", "running.ready")(e) && e.id > failed.id)
    // Late heartbeats made it unready first; then the TTL passed and it was stopped and restarted.
    const seen = transitions(h.events, "spinner")
    const stopped = seen.indexOf("running.unready->stopping")
    expect(seen.slice(stopped - 1, stopped + 5)).toEqual([
      "running.ready->running.unready",
      "running.unready->stopping",
      "stopping->error",
      "error->backoff",
      "backoff->starting",
      "starting->running.unready",
    ])
    expect((await h.sam.invoke("echo", "alive")).output).toBe("alive")
  })

  it("a slow handler hits timeout_seconds: the caller gets a timeout error and the handler's signal fires", async () => {
    const h = await startAgents([
      agentUnit("sloth", { agent: { capabilities: ["slow", "echo"], timeoutMs: 300 } }),
    ])
    const aborted = h.nextLine((line) => line.startsWith("slow: signal aborted"), "sloth")
    const error = await h.sam.invoke("slow", {}).catch((e: unknown) => e)
    expect(error).toMatchObject({
      _tag: "CapabilityError",
      reason: "timeout",
      agentLimit: true,
      message: expect.stringContaining("within its resources.timeout_seconds (0.3 s)"),
    })
    // The API's answer points at the agent's own limit: a longer request deadline cannot pass it.
    expect(capabilityProblem(error, "slow").detail).toContain(
      "give it longer in the config if the agent needs it (its resources.timeout_seconds; a request's timeout_seconds or `sam invoke --timeout` cannot go past it)",
    )
    await aborted
    // The agent itself is fine and serves the next call.
    expect((await h.sam.invoke("echo", 1)).output).toBe(1)
    expect(h.sam.agents.status("sloth").restarts).toBe(0)
  })
})
