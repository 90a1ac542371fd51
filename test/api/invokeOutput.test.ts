// What an agent returns reaches API clients as JSON, whatever the runtime: JSON.stringify's rules
// (nothing is null, undefined fields are left out), as the sandbox's IPC already applies them; a
// value JSON cannot hold (a BigInt) is the agent's failure (502), said in words, never a 500.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { agentUnit, removeScratch } from "../support/agents.ts"
import { type ApiHarness, failureOf, parseFrames, startApi, withClient } from "./apiHarness.ts"

let h: ApiHarness
const capabilities = ["nothing", "sparse", "bigint", "stream_sparse"]

beforeAll(async () => {
  h = await startApi([
    agentUnit("inline", { runtime: "inline", agent: { capabilities } }),
    agentUnit("worker", { runtime: "worker", agent: { capabilities } }),
  ])
})

afterAll(async () => {
  expect(await h.close()).toEqual([])
  expect(h.errors).toEqual([])
  removeScratch()
})

const invoke = (name: string) =>
  withClient(h.url, h.token("ops"), (c) =>
    c.capabilities.invoke({ params: { name }, payload: { input: null } }),
  )

describe("an agent's result as the API answers it", () => {
  it("nothing is null, an undefined field is left out (each runtime)", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await invoke("nothing")).output).toBeNull()
      expect((await invoke("sparse")).output).toEqual({ kept: 1 })
    }
  })

  it("a BigInt is a 502 naming the agent and what to return instead", async () => {
    const problem = await failureOf(h.url, h.token("ops"), (c) =>
      c.capabilities.invoke({ params: { name: "bigint" }, payload: { input: null } }),
    )
    expect(problem.status).toBe(502)
    expect(problem.detail).toMatch(
      /^agent "(inline|worker)" answered "bigint" with a value JSON cannot hold \(.*BigInt.*\): return objects, arrays, strings, numbers, booleans or null$/,
    )
  })

  it("streamed chunks follow the same rules; the BigInt one ends the stream with an error event", async () => {
    const response = await h.fetch("/api/capabilities/stream_sparse/invoke", {
      as: "ops",
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: null }),
    })
    const frames = parseFrames(await response.text())
    expect(frames.map((f) => f.event)).toEqual(["chunk", "chunk", "error"])
    expect(frames.slice(0, 2).map((f) => f.data)).toEqual([null, { kept: 2 }])
    expect(frames[2]?.data).toMatchObject({ status: 502, reason: "failed" })
  })
})
