import { createServer, type Server } from "node:http"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { sentences } from "../../agents/summary/summarize.ts"
import { agentUnit, removeScratch, startAgents, stopAll } from "../support/agents.ts"
import { httpCheck, nodeService } from "../support/runtime.ts"

const demo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))

let blobs: Server | undefined
afterEach(async () => {
  expect(await stopAll()).toEqual([])
  await new Promise((resolve) => blobs?.close(resolve) ?? resolve(undefined))
  blobs = undefined
})
afterAll(removeScratch)

const article = `SAM supervises AI agents and the services they depend on. Agents declare capabilities such as
text summarization. The supervisor restarts an agent that crashes, using backoff. Agents run in a
sandbox that limits which files they read. The weather was pleasant on the day the project started.
Capabilities are routed to the least busy agent that offers them, and agents restart when they fail.`

const summaryAgent = () =>
  agentUnit("summaryAgent", { agent: { path: demo("agents/summary"), capabilities: ["text_summarization"] } })

describe("demo agents", () => {
  it("summaryAgent answers text_summarization with sentences taken from the text", async () => {
    const h = await startAgents([summaryAgent()])
    const { output } = await h.sam.invoke("text_summarization", { text: article, max_sentences: 2 })
    const summary = (output as { summary: string }).summary
    const picked = sentences(summary)
    expect(picked).toHaveLength(2)
    for (const sentence of picked) expect(sentences(article)).toContain(sentence)
    expect(summary).not.toContain("weather")
    await expect(h.sam.invoke("text_summarization", { text: "" })).rejects.toMatchObject({
      message: expect.stringContaining("invalid input: text: expected a non-empty string"),
    })
  })

  it("notesAgent uses the notes-store service it depends on and asks summaryAgent for a digest", async () => {
    const seed = [
      { id: "1", text: "Agents are supervised processes with capabilities." },
      { id: "2", text: "Services such as the notes store are started before the agents that use them." },
    ]
    blobs = createServer((_req, res) => res.end(JSON.stringify(seed)))
    await new Promise<void>((resolve) => blobs?.listen(0, "127.0.0.1", resolve))
    const address = blobs.address() as { port: number }
    const store = nodeService("notes-store", "unused.mjs", {
      probes: [httpCheck()],
      env: { SAM_BLOB_STORE_URL: `http://127.0.0.1:${address.port}` },
    })
    const h = await startAgents([
      { ...store, process: { ...store.process!, args: [demo("demo/services/notes-store.mjs")] } },
      summaryAgent(),
      agentUnit("notesAgent", {
        dependsOn: ["notes-store"],
        agent: {
          path: demo("agents/notes"),
          capabilities: ["notes_search", "notes_add", "notes_digest"],
          network: true,
        },
      }),
    ])
    expect(h.sam.agents.status("notesAgent")).toMatchObject({ state: "running", ready: true })
    await h.sam.invoke("notes_add", { text: "Capabilities are routed to ready agents." })
    const found = (await h.sam.invoke("notes_search", { query: "capabilities" })).output as {
      notes: unknown[]
    }
    expect(found.notes).toHaveLength(2)
    const digest = (await h.sam.invoke("notes_digest", { max_sentences: 1 })).output as {
      digest: string
      notes: number
    }
    expect(digest.notes).toBe(3)
    expect(sentences(digest.digest)).toHaveLength(1)
  })
})
