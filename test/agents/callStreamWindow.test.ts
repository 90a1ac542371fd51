// SAM's side of an agent's streamed call (`ctx.invokeStream`): SAM sends at most callStreamWindow
// chunks the agent has not acknowledged, more as `call-ack`s come, then a `call-result` naming who
// served it; a `cancel` from the agent ends the stream where it is served. The test plays the
// agent's side of the protocol against the real AgentConnection; the chunks come from a generator
// that counts how far it was read.
import { describe, expect, it } from "vitest"
import { callStreamWindow } from "../../src/agent/callStream.ts"
import type { ToAgent } from "../../src/agent/protocol.ts"
import { AgentConnection } from "../../src/runtime/drivers/agent/agentConnection.ts"

/** Every promise callback queued so far has run (the connection works on microtasks alone). */
const settled = () => new Promise((resolve) => setImmediate(resolve))

const connection = (count: number) => {
  const sent: ToAgent[] = []
  let pulled = 0
  let returned = false
  const conn = new AgentConnection({
    unit: "reader",
    send: (message) => {
      sent.push(message)
    },
    log: () => {},
    logEntry: () => {},
    event: () => {},
    profile: undefined,
    calls: {
      invoke: () => Promise.reject(new Error("not used")),
      stream: async function* () {
        try {
          for (; pulled < count; ) {
            pulled++
            yield pulled
          }
          return "writer"
        } finally {
          returned = true
        }
      },
    },
  })
  const chunks = () => sent.filter((m) => m.type === "call-chunk").map((m) => (m as { chunk: unknown }).chunk)
  return { conn, sent, chunks, pulled: () => pulled, returned: () => returned }
}

describe("a streamed call from an agent (call with stream: true)", () => {
  it("sends the window's worth of chunks, then one more for each the agent acknowledges, then the end", async () => {
    const c = connection(100)
    c.conn.receive({ type: "call", id: "call-1", capability: "tokens", input: {}, stream: true })
    await settled()
    expect(c.chunks()).toEqual(Array.from({ length: callStreamWindow }, (_, i) => i + 1))
    // Nothing more until the agent says it read some.
    await settled()
    expect(c.chunks()).toHaveLength(callStreamWindow)
    c.conn.receive({ type: "call-ack", id: "call-1", chunks: 16 })
    await settled()
    expect(c.chunks()).toHaveLength(callStreamWindow + 16)
    // The rest, acknowledged as the agent reads it.
    for (let read = 16; c.sent.at(-1)?.type !== "call-result"; read += 16) {
      c.conn.receive({ type: "call-ack", id: "call-1", chunks: 16 })
      await settled()
      expect(read).toBeLessThan(200)
    }
    expect(c.chunks()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(c.sent.at(-1)).toEqual({ type: "call-result", id: "call-1", agent: "writer" })
  })

  it("a cancel from the agent ends the stream where it is served, and answers nothing more", async () => {
    const c = connection(1_000)
    c.conn.receive({ type: "call", id: "call-1", capability: "tokens", input: {}, stream: true })
    await settled()
    expect(c.chunks()).toHaveLength(callStreamWindow)
    c.conn.receive({ type: "cancel", id: "call-1" })
    await settled()
    expect(c.returned()).toBe(true)
    expect(c.pulled()).toBe(callStreamWindow)
    expect(c.sent.filter((m) => m.type === "call-result")).toEqual([])
    // A late ack for it changes nothing.
    c.conn.receive({ type: "call-ack", id: "call-1", chunks: 16 })
    await settled()
    expect(c.chunks()).toHaveLength(callStreamWindow)
  })

  it("an ack that names no streamed call, or is malformed, is dropped", async () => {
    const c = connection(1)
    c.conn.receive({ type: "call-ack", id: "nope", chunks: 3 })
    c.conn.receive({ type: "call-ack", id: "nope", chunks: "3" })
    expect(c.conn.dropped).toBe(1)
    expect(c.sent).toEqual([])
  })
})
