// The client's Server-Sent Events reader, fed the way a socket delivers a body: frames split at
// any byte, CRLF or LF line ends, comments and retry lines between events.
import { describe, expect, it } from "vitest"
import { readSse } from "../../src/api/sseReader.ts"

const body = async function* (chunks: ReadonlyArray<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks
}

const readChunks = async (chunks: ReadonlyArray<Uint8Array>) => {
  const messages = []
  for await (const message of readSse(body(chunks))) messages.push(message)
  return messages
}

const read = (...texts: string[]) => readChunks(texts.map((t) => new TextEncoder().encode(t)))

/** The text one byte per chunk. */
const byteByByte = (text: string) => [...new TextEncoder().encode(text)].map((b) => Uint8Array.of(b))

describe("reading an event stream", () => {
  it("yields each event once its blank line arrives, whatever the chunking", async () => {
    const text =
      'retry: 2000\n\nid: 7\nevent: snapshot\ndata: {"unit":"café"}\n\n: keep-alive\n\nevent: transition\ndata: {"to":"running"}\n\n'
    const whole = await read(text)
    expect(whole).toEqual([
      { event: "snapshot", id: "7", data: '{"unit":"café"}' },
      { event: "transition", id: "7", data: '{"to":"running"}' },
    ])
    // Split inside every field, inside the two bytes of "é" and between the two newlines.
    expect(await readChunks(byteByByte(text))).toEqual(whole)
  })

  it("joins multi-line data, reads CRLF, defaults the event name and drops an unfinished event", async () => {
    expect(await read("data: one\r\ndata: two\r\n\r\ndata:three\n\ndata: cut off")).toEqual([
      { event: "message", id: undefined, data: "one\ntwo" },
      { event: "message", id: undefined, data: "three" },
    ])
  })
})
