// The yaml library reports a `{` or `[` left open where it notices, on the next line; the
// operator's mistake is where it opened. Finds that bracket (quote- and comment-aware) so the
// problem points at it.

const FLOW_NOT_CLOSED =
  /^Flow (map|sequence) in block collection must be sufficiently indented and end with a ([}\]])/

/** Where the flow collection that `message` (at `offset`) says is not closed opened, if found. */
export const unclosedFlowAt = (text: string, message: string, offset: number): number | undefined => {
  const match = FLOW_NOT_CLOSED.exec(message)
  if (match === null) return undefined
  const opener = match[2] === "}" ? "{" : "["
  const open: Array<{ char: string; at: number }> = []
  let quote: string | undefined
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    const c = text[i] as string
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++
      else if (c === quote) quote = undefined
      continue
    }
    if (c === '"' || c === "'") quote = c
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] as string))) {
      const end = text.indexOf("\n", i)
      i = end === -1 ? text.length : end
    } else if (c === "{" || c === "[") open.push({ char: c, at: i })
    else if (c === "}" || c === "]") open.pop()
  }
  for (let i = open.length - 1; i >= 0; i--) if (open[i]?.char === opener) return open[i]?.at
  return undefined
}

/** The message for it: what is open, and what closes it. */
export const unclosedFlowMessage = (message: string): string => {
  const closer = FLOW_NOT_CLOSED.exec(message)?.[2] ?? "}"
  return `this "${closer === "}" ? "{" : "["}" is never closed: add its "${closer}"`
}
