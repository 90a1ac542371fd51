// notesAgent: an agent that depends on a service. It reads and writes notes in the demo
// `notes-store` HTTP service (SAM injects its URL as SAM_NOTES_STORE_URL once it is ready) and
// asks summaryAgent, through SAM, for a digest of them.
import { defineAgent } from "../../src/agent/index.ts"

interface Note {
  readonly id: string
  readonly text: string
}

const storeUrl = (env: Readonly<Record<string, string | undefined>>): string => {
  const url = env.SAM_NOTES_STORE_URL ?? env.NOTES_STORE_URL
  if (!url) throw new Error("SAM_NOTES_STORE_URL is not set: add notes-store to this agent's depends_on")
  return url
}

const request = async <A>(url: string, init: RequestInit & { signal: AbortSignal }): Promise<A> => {
  const response = await fetch(url, init)
  if (!response.ok)
    throw new Error(`notes-store answered ${response.status} for ${init.method ?? "GET"} ${url}`)
  return (await response.json()) as A
}

export default defineAgent({
  capabilities: {
    /** { query } → the notes whose text contains it (case-insensitive). */
    notes_search: async (input: { query?: string }, ctx) => {
      const notes = await request<Note[]>(`${storeUrl(ctx.env)}/notes`, { signal: ctx.signal })
      const query = (input?.query ?? "").toLowerCase()
      return { notes: notes.filter((n) => n.text.toLowerCase().includes(query)) }
    },
    /** { text } → the stored note. */
    notes_add: async (input: { text: string }, ctx) =>
      request<Note>(`${storeUrl(ctx.env)}/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: input.text }),
        signal: ctx.signal,
      }),
    /** { max_sentences? } → a digest of every note, summarized by whoever offers text_summarization. */
    notes_digest: async (input: { max_sentences?: number }, ctx) => {
      const notes = await request<Note[]>(`${storeUrl(ctx.env)}/notes`, { signal: ctx.signal })
      if (notes.length === 0) return { digest: "", notes: 0 }
      const text = notes
        .map((n) => (/[.!?]$/.test(n.text.trim()) ? n.text.trim() : `${n.text.trim()}.`))
        .join(" ")
      const { summary } = (await ctx.invoke(
        "text_summarization",
        { text, max_sentences: input?.max_sentences ?? 2 },
        { signal: ctx.signal },
      )) as { summary: string }
      return { digest: summary, notes: notes.length }
    },
  },
  setup: async (ctx) => {
    // Fail the start early and clearly if the service is not where SAM said it would be.
    const health = await fetch(`${storeUrl(ctx.env)}/health`)
    if (!health.ok) throw new Error(`notes-store health check answered ${health.status}`)
    ctx.logger.info(`notesAgent using notes-store at ${storeUrl(ctx.env)}`)
  },
})
