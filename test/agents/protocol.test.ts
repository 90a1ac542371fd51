import { afterAll, afterEach, describe, expect, it } from "vitest"
import { decodeFromAgentMessage, decodeToAgentMessage } from "../../src/agent/protocol.ts"
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
