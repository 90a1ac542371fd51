import { afterAll, afterEach, describe, expect, it } from "vitest"
import { decodeFromAgentMessage, decodeToAgentWithSchema } from "../../src/agent/protocol.ts"
import { decodeToAgentMessage } from "../../src/agent/toAgentDecoder.ts"
import { agentUnit, eventsOf, removeScratch, startAgents, stopAll } from "../support/agents.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

describe("the agent IPC protocol", () => {
  it("accepts well-formed messages and names what is wrong with the others", () => {
    expect(decodeFromAgentMessage({ type: "chunk", id: "i1", chunk: { n: 1 } })).toEqual({
      ok: true,
      message: { type: "chunk", id: "i1", chunk: { n: 1 } },
    })
    expect(decodeToAgentMessage({ type: "cancel", id: "i1" })).toMatchObject({ ok: true })
    expect(decodeFromAgentMessage({ type: "result", id: 42 })).toEqual({
      ok: false,
      error: expect.stringContaining('invalid "result" message: Expected string'),
    })
    expect(decodeFromAgentMessage("hello")).toEqual({
      ok: false,
      error: expect.stringContaining("not a protocol message"),
    })
    expect(decodeFromAgentMessage(null)).toMatchObject({ ok: false })
    // Direction matters: an agent may not send SAM an init.
    expect(decodeFromAgentMessage({ type: "init" })).toMatchObject({ ok: false })
    expect(decodeToAgentMessage({ type: "log", level: "info", msg: "x" })).toMatchObject({ ok: false })
  })

  it("an agent's own check of SAM's messages (no effect loaded) agrees with the protocol's Schema", () => {
    const init = {
      type: "init",
      unit: "a",
      instance: 0,
      path: "/x",
      config: {},
      heartbeatIntervalMs: 5,
      dataDir: "/d",
    }
    const cases: ReadonlyArray<unknown> = [
      init,
      { ...init, config: { nested: [1, 2] }, extra: "dropped" },
      { ...init, persona: "academic" },
      { ...init, persona: 3 },
      { ...init, config: [] },
      { ...init, config: null },
      { ...init, instance: "0" },
      { type: "init", unit: "a" },
      { type: "invoke", id: "i1", capability: "echo", input: { n: 1 } },
      { type: "invoke", id: "i1", capability: "echo", input: undefined },
      { type: "invoke", id: "i1", capability: "echo" },
      { type: "invoke", id: 7, capability: "echo", input: 1 },
      { type: "invoke", id: "i1", capability: "b", input: 1, chain: ["a", "b"], deadline: 1_700_000_000_000 },
      { type: "invoke", id: "i1", capability: "b", input: 1, chain: [] },
      { type: "invoke", id: "i1", capability: "b", input: 1, chain: ["a", 2] },
      { type: "invoke", id: "i1", capability: "b", input: 1, chain: "a" },
      { type: "invoke", id: "i1", capability: "b", input: 1, deadline: "soon" },
      { type: "call-result", id: "c1", error: "deep", reason: "too_deep" },
      { type: "cancel", id: "i1" },
      { type: "call-result", id: "c1", output: [1] },
      { type: "call-result", id: "c1", error: "refused" },
      { type: "call-result", id: "c1", error: 5 },
      { type: "call-result", id: "c1", error: "gone", reason: "failed", code: "E_QUOTA", agent: "b#0" },
      { type: "call-result", id: "c1", error: "late", reason: "timeout" },
      { type: "call-result", id: "c1", error: "late", reason: "exploded" },
      { type: "call-result", id: "c1", error: "gone", code: 7 },
      { type: "call-result", id: "c1", error: "gone", agent: null },
      { type: "call-result", id: "c1" },
      { type: "call-chunk", id: "c1", chunk: { token: "a" } },
      { type: "call-chunk", id: "c1", chunk: null },
      { type: "call-chunk", id: "c1" },
      { type: "call-chunk", id: 1, chunk: "a" },
      { type: "shutdown", why: "extra" },
      { type: "log", level: "info", msg: "x" },
      { type: 3 },
      "hello",
      null,
      [],
    ]
    for (const raw of cases) {
      const schema = decodeToAgentWithSchema(raw)
      const own = decodeToAgentMessage(raw)
      expect({ raw, ok: own.ok }).toEqual({ raw, ok: schema.ok })
      if (own.ok && schema.ok) expect(own.message).toEqual(schema.message)
      if (!own.ok && !schema.ok) expect(own.error.split(":")[0]).toBe(schema.error.split(":")[0])
    }
  })

  it("malformed messages are logged and dropped, and neither side crashes", async () => {
    const h = await startAgents([agentUnit("noisy", { agent: { capabilities: ["garbage", "echo"] } })])
    // The agent sends SAM three bad messages, and delivers a bad "invoke" to its own host.
    const agentSide = h.nextLine((line) => line.includes("malformed message from SAM"), "noisy")
    expect((await h.sam.invoke("garbage", {})).output).toBe("still here")
    await agentSide
    const dropped = eventsOf(h, "agent.protocol-error")
    expect(dropped.map((e) => String(e.detail))).toEqual([
      expect.stringContaining('not a protocol message (type "bogus"'),
      expect.stringContaining('invalid "result" message'),
      expect.stringContaining("not a protocol message"),
    ])
    expect((await h.sam.invoke("echo", "after")).output).toBe("after")
    expect(h.sam.agents.status("noisy")).toMatchObject({ state: "running", ready: true, restarts: 0 })
  })
})
