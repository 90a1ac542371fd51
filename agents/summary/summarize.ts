// Extractive summarization without a model: split the text into sentences, score each by the
// frequency of its content words across the whole text, keep the best ones in their original
// order. Pure; the agent (index.ts) is the only caller.

const stopWords = new Set(
  `a about above after again against all am an and any are as at be because been before being below
  between both but by can could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is it its itself just me more most
  my myself no nor not now of off on once only or other our ours ourselves out over own same she
  should so some such than that the their theirs them themselves then there these they this those
  through to too under until up very was we were what when where which while who whom why will with
  would you your yours yourself yourselves also may might must shall one two many much`.split(/\s+/),
)

/** Abbreviations whose period does not end a sentence ("Dr. Smith", "e.g. This"). */
const abbreviation = /(?:^|\s)(?:mr|mrs|ms|dr|prof|sr|jr|st|vs|etc|e\.g|i\.e|no|fig|inc|ltd)\.$/i

/** Sentences of `text`: each ends at . ! ? followed by whitespace and a capital or a digit. */
export const sentences = (text: string): string[] => {
  const pieces = text
    .replace(/\s+/g, " ")
    .split(/(?<=[.!?]["')\]]?)\s+(?=["'([]?[A-Z0-9])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  const merged: string[] = []
  for (const piece of pieces) {
    const last = merged.at(-1)
    if (last !== undefined && abbreviation.test(last)) merged[merged.length - 1] = `${last} ${piece}`
    else merged.push(piece)
  }
  return merged
}

const words = (sentence: string): string[] => sentence.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []

/** The `max` highest-scoring sentences of `text`, in the order they appear. */
export const summarize = (text: string, max: number): string[] => {
  const all = sentences(text)
  if (all.length <= max) return all
  const frequency = new Map<string, number>()
  for (const word of words(text))
    if (!stopWords.has(word)) frequency.set(word, (frequency.get(word) ?? 0) + 1)
  const top = Math.max(1, ...frequency.values())
  const scored = all.map((sentence, index) => {
    const content = words(sentence).filter((w) => !stopWords.has(w))
    const weight = content.reduce((sum, w) => sum + (frequency.get(w) ?? 0) / top, 0)
    // Normalise by length so long sentences do not win by size alone; the lead sentence gets a
    // small bonus, as it often states the topic.
    const score = content.length === 0 ? 0 : weight / Math.sqrt(content.length) + (index === 0 ? 0.1 : 0)
    return { sentence, index, score }
  })
  return scored
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, max)
    .sort((a, b) => a.index - b.index)
    .map((s) => s.sentence)
}
