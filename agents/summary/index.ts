// summaryAgent: the capability `text_summarization` ({ text, max_sentences? } → { summary }),
// an extractive summary made only of sentences from the text. No network, no model download:
// it runs in the `standard` sandbox with nothing but its own directory to read.
import { defineAgent, type StandardSchemaV1 } from "../../src/agent/index.ts"
import { summarize } from "./summarize.ts"

export interface SummaryInput {
  readonly text: string
  readonly max_sentences?: number
}

/** A hand-written Standard Schema (zod, valibot or Effect Schema would do the same). */
const SummaryInput: StandardSchemaV1<unknown, SummaryInput> = {
  "~standard": {
    version: 1,
    vendor: "summary-agent",
    validate: (value) => {
      if (typeof value !== "object" || value === null) return { issues: [{ message: "expected an object" }] }
      const { text, max_sentences } = value as Record<string, unknown>
      if (typeof text !== "string" || text.trim() === "") {
        return { issues: [{ message: "expected a non-empty string", path: ["text"] }] }
      }
      if (
        max_sentences !== undefined &&
        (typeof max_sentences !== "number" || !Number.isInteger(max_sentences) || max_sentences < 1)
      ) {
        return { issues: [{ message: "expected a positive integer", path: ["max_sentences"] }] }
      }
      return { value: max_sentences === undefined ? { text } : { text, max_sentences } }
    },
  },
}

let served = 0

export default defineAgent({
  capabilities: {
    text_summarization: {
      description: "Extractive summary: the most representative sentences of the text, in order.",
      input: SummaryInput,
      handler: (input: SummaryInput, ctx) => {
        served++
        const max = input.max_sentences ?? Number(ctx.config.default_sentences ?? 3)
        const summary = summarize(input.text, max).join(" ")
        ctx.logger.debug(`summarized ${input.text.length} characters into ${summary.length}`)
        return { summary }
      },
    },
  },
  setup: (ctx) => ctx.logger.info(`summaryAgent ready (instance ${ctx.agent.instance})`),
  health: () => ({ ok: true, detail: `${served} summaries served` }),
  shutdown: (ctx) => ctx.logger.info(`summaryAgent stopping after ${served} summaries`),
})
