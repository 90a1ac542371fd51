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

  it("a streamed result collected into one is capped at 64 MiB: the call fails too_large and the agent's stream is cancelled", async () => {
    const h = await startAgents([
      agentUnit("streamer", { agent: { capabilities: ["stream_big", "echo"] } }),
      agentUnit("relayer", { agent: { capabilities: ["relay"], securityProfile: "strict" } }),
    ])
    // sam.invoke collects: 200 chunks of 1 MiB are past the cap, and nothing past it is kept.
    const big = { count: 200, pause_ms: 5 }
    const cancelled = h.nextLine((line) => line.startsWith("stream_big: cancelled"), "streamer")
    const error = await h.sam.invoke("stream_big", big).catch((e: unknown) => e)
    expect(error).toMatchObject({
      _tag: "CapabilityError",
      reason: "too_large",
      message:
        'capability "stream_big" was cancelled: streamer streamed more than 64 MiB, the most SAM collects into one result; read a result this big as a stream (sam invoke --stream, Accept: text/event-stream, sam.capabilities.stream)',
    })
    expect(capabilityProblem(error, "stream_big")).toMatchObject({ status: 502, reason: "too_large" })
    // The agent was told to stop: it sent about 64 chunks, not 200.
    const first = await cancelled
    expect(Number(/after (\d+) chunks/.exec(first)?.[1])).toBeLessThan(200)
    // A strict agent without network asks SAM for the same through ctx.invoke: refused alike.
    const relayed = h.nextLine(
      (line) => line.startsWith("stream_big: cancelled") && line !== first,
      "streamer",
    )
    const refused = await h.sam
      .invoke("relay", { capability: "stream_big", input: big })
      .catch((e: unknown) => e)
    expect(refused).toMatchObject({
      _tag: "CapabilityError",
      reason: "failed",
      message: expect.stringContaining(
        "streamer streamed more than 64 MiB, the most SAM collects into one result",
      ),
    })
    expect(Number(/after (\d+) chunks/.exec(await relayed)?.[1])).toBeLessThan(200)
    // Both agents serve on; a stream within the cap is collected whole.
    expect((await h.sam.invoke("stream_big", { count: 3 })).output).toHaveLength(3)
    expect((await h.sam.invoke("relay", { capability: "stream_big", input: { count: 2 } })).output).toEqual({
      chunks: 2,
    })
    expect(h.sam.agents.status("streamer").restarts).toBe(0)
  })

  it("a stream's reader that falls 64 MiB behind the agent ends it too_large: SAM does not hold the rest", async () => {
    const h = await startAgents([agentUnit("streamer", { agent: { capabilities: ["stream_big"] } })])
    const cancelled = h.nextLine((line) => line.startsWith("stream_big: cancelled"), "streamer")
    const stream = h.sam.capabilities.stream("stream_big", { count: 200, pause_ms: 5 })
    expect((await stream.next()).done).toBe(false)
    // The reader takes nothing more (an SSE client on a slow link): the agent is told to stop.
    expect(Number(/after (\d+) chunks/.exec(await cancelled)?.[1])).toBeLessThan(200)
    const ended = await stream.next().catch((e: unknown) => e)
    expect(ended).toMatchObject({
      _tag: "CapabilityError",
      reason: "too_large",
      message: expect.stringContaining("its reader fell behind streamer's stream by more than 64 MiB"),
    })
  })

  it("a stream of many small chunks is capped too: past 100,000 collected chunks the call fails too_large", async () => {
    // Inline: the handler runs in SAM's own thread, and its stream is collected the same way.
    const h = await startAgents([
      agentUnit("counter", { runtime: "inline", agent: { capabilities: ["stream"] } }),
    ])
    expect((await h.sam.invoke("stream", { count: 100_000 })).output).toHaveLength(100_000)
    await expect(h.sam.invoke("stream", { count: 100_001 })).rejects.toMatchObject({
      reason: "too_large",
      message: expect.stringContaining("counter streamed more than 100,000 chunks"),
    })
  })
})
