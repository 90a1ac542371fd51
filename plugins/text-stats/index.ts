// Built-in plugin: offers the capability `text_statistics` (counts, reading time, frequent
// words) to agents and API clients, and the same analysis at POST /api/plugins/text-stats/analyze.
// Uses only the public plugin API.
import { Schema } from "effect"
import { definePlugin, reply } from "../../src/plugins/index.ts"

export interface TextStatistics {
  readonly characters: number
  readonly words: number
  readonly sentences: number
  readonly lines: number
  readonly paragraphs: number
  readonly averageWordLength: number
  readonly readingTimeSeconds: number
  readonly topWords: ReadonlyArray<{ readonly word: string; readonly count: number }>
}

const Config = Schema.Struct({
  words_per_minute: Schema.optionalKey(Schema.Number),
  top_words: Schema.optionalKey(Schema.Number),
  /** Words left out of `topWords` (articles, pronouns...). */
  stop_words: Schema.optionalKey(Schema.Array(Schema.String)),
})

const defaultStopWords = [
  "the",
  "a",
  "an",
  "and",
  "or",
  "of",
  "to",
  "in",
  "is",
  "it",
  "that",
  "for",
  "on",
  "with",
]

/** Pure: the statistics of `text`. */
export const analyze = (
  text: string,
  options: { wordsPerMinute: number; topWords: number; stopWords: ReadonlySet<string> },
): TextStatistics => {
  const words = text.match(/[\p{L}\p{N}'’-]+/gu) ?? []
  const counts = new Map<string, number>()
  for (const word of words) {
    const key = word.toLowerCase()
    if (!options.stopWords.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const letters = words.reduce((n, w) => n + w.length, 0)
  const trimmed = text.trim()
  return {
    characters: text.length,
    words: words.length,
    sentences:
      trimmed === "" ? 0 : (trimmed.match(/[^.!?]+([.!?]+|$)/g) ?? []).filter((s) => s.trim() !== "").length,
    lines: text === "" ? 0 : text.split(/\r?\n/).length,
    paragraphs: trimmed === "" ? 0 : trimmed.split(/\n\s*\n/).length,
    averageWordLength: words.length === 0 ? 0 : Math.round((letters / words.length) * 100) / 100,
    readingTimeSeconds: Math.ceil((words.length / options.wordsPerMinute) * 60),
    topWords: [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, options.topWords)
      .map(([word, count]) => ({ word, count })),
  }
}

const textOf = (input: unknown): string | undefined => {
  if (typeof input === "string") return input
  if (typeof input === "object" && input !== null && typeof (input as { text?: unknown }).text === "string")
    return (input as { text: string }).text
  return undefined
}

export default definePlugin({
  name: "text-stats",
  version: "1.0.0",
  apiVersion: 1,
  description: "Capability text_statistics: word, sentence and reading-time statistics of a text.",
  configSchema: Config,
  setup(ctx) {
    const options = {
      wordsPerMinute: ctx.config.words_per_minute ?? 200,
      topWords: ctx.config.top_words ?? 5,
      stopWords: new Set(ctx.config.stop_words ?? defaultStopWords),
    }
    const run = (input: unknown): TextStatistics => {
      const text = textOf(input)
      if (text === undefined) throw new Error('text_statistics expects a string or { "text": string }')
      return analyze(text, options)
    }
    ctx.capabilities.register("text_statistics", (input) => run(input))
    ctx.api.post("/analyze", ({ body }) => {
      const text = textOf(body)
      return text === undefined
        ? reply(400, { error: 'send { "text": "..." } as JSON' })
        : analyze(text, options)
    })
    ctx.log.info("offering capability text_statistics")
  },
})
