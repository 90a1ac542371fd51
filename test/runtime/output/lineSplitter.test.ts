// How a child's output becomes lines: split at newlines whatever the chunks, CR LF taken as one,
// empty lines kept, a line longer than the limit cut there with a marker and the rest dropped,
// and a last line without a newline still a line at the end of the stream.
import { describe, expect, it } from "vitest"
import { LineSplitter, truncationMarker } from "../../../src/runtime/output/lineSplitter.ts"

const split = (chunks: ReadonlyArray<string | Buffer>, maxLineBytes = 64, end = true): string[] => {
  const lines: string[] = []
  const splitter = new LineSplitter(maxLineBytes, (line) => lines.push(line))
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
  if (end) splitter.end()
  return lines
}

describe("line splitting", () => {
  it("splits at newlines whatever the chunks; CR LF is one line end; empty lines stay", () => {
    expect(split(["one\ntwo\r\n\nthr", "ee\nfo", "", "ur"])).toEqual(["one", "two", "", "three", "four"])
    expect(split(["a\r", "\nb\n"])).toEqual(["a", "b"])
    expect(split(["last"], 64, false)).toEqual([])
  })

  it("keeps a multi-byte character split across chunks whole", () => {
    const text = Buffer.from("naïve ✓ done\n")
    expect(split([text.subarray(0, 3), text.subarray(3, 9), text.subarray(9)])).toEqual(["naïve ✓ done"])
  })

  it("cuts a line longer than the limit there, with a marker, and drops the rest up to its newline", () => {
    const cut = `${"x".repeat(8)}${truncationMarker(8)}`
    expect(split([`${"x".repeat(20)}\nok\n`], 8)).toEqual([cut, "ok"])
    expect(split(["xxxx", "xxxxxx", "xxxxxxxxxx", "\nok\n"], 8)).toEqual([cut, "ok"])
    expect(split(["12345678\n"], 8)).toEqual(["12345678"])
  })
})
