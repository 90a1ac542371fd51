// Reads a Server-Sent Events body (the WHATWG event-stream format) into messages, for the typed
// client (controlClient.ts). Plain code with no imports: the CLI loads it without Effect.

export interface SseMessage {
  /** The `event:` field; `message` when the server sent none. */
  readonly event: string
  /** The last `id:` seen on the stream (it carries over to later messages, as EventSource does). */
  readonly id: string | undefined
  /** The `data:` lines, joined by newlines. */
  readonly data: string
}

/** Every message of `body`, as it arrives; comments (`: keep-alive`) and `retry:` are skipped. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  let buffer = ""
  let event = ""
  let data: string[] = []
  let id: string | undefined
  const line = (text: string): SseMessage | undefined => {
    if (text === "") {
      const message = data.length === 0 ? undefined : { event: event || "message", id, data: data.join("\n") }
      event = ""
      data = []
      return message
    }
    if (text.startsWith(":")) return undefined
    const colon = text.indexOf(":")
    const field = colon < 0 ? text : text.slice(0, colon)
    const raw = colon < 0 ? "" : text.slice(colon + 1)
    const value = raw.startsWith(" ") ? raw.slice(1) : raw
    if (field === "event") event = value
    else if (field === "data") data.push(value)
    else if (field === "id" && !value.includes("\0")) id = value
    return undefined
  }
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end = buffer.indexOf("\n")
    while (end >= 0) {
      const text = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      const message = line(text.endsWith("\r") ? text.slice(0, -1) : text)
      if (message) yield message
      end = buffer.indexOf("\n")
    }
  }
}
