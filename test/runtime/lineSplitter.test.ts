import { describe, expect, it } from "vitest"
import { cutLine, LineSplitter, truncationMarker } from "../../src/runtime/output/lineSplitter.ts"

const split = (max: number, chunks: ReadonlyArray<string | Buffer>, end = true) => {
  const lines: string[] = []
  const splitter = new LineSplitter(max, (l) => lines.push(l))
  for (const c of chunks) splitter.push(typeof c === "string" ? Buffer.from(c) : c)
  if (end) splitter.end()
  return lines
}

describe("output lines are split without holding more than a line's limit", () => {
  it("splits on newlines across chunk boundaries, drops a trailing CR, keeps empty lines", () => {
    expect(split(100, ["a\nb", "c\r\n", "\n", "last"])).toEqual(["a", "bc", "", "last"])
  })

  it("a line of exactly the limit is whole; one byte more is truncated with a marker once", () => {
    expect(split(4, ["abcd\n"])).toEqual(["abcd"])
    expect(split(4, ["abc", "de", "fgh\nnext\n"])).toEqual([`abcd${truncationMarker(4)}`, "next"])
  })

  it("a line that never ends is emitted when it reaches the limit, and nothing of its rest is kept", () => {
    const lines = split(
      8,
      Array.from({ length: 1000 }, () => "0123456789"),
      false,
    )
    expect(lines).toEqual([`01234567${truncationMarker(8)}`])
  })

  it("a multi-byte character cut at the limit does not break the text around it", () => {
    expect(split(5, ["héllo wörld\n"])).toEqual([`héll${truncationMarker(5)}`])
  })

  it("a limit that falls inside a character cuts before it: no U+FFFD, in a chunk, across chunks, and for a whole line", () => {
    expect(split(2, ["héllo\n"])).toEqual([`h${truncationMarker(2)}`])
    expect(split(3, ["a😀b\n"])).toEqual([`a${truncationMarker(3)}`])
    expect(split(4, ["a", Buffer.from("😀").subarray(0, 2), Buffer.from("😀").subarray(2), "b\n"])).toEqual([
      `a${truncationMarker(4)}`,
    ])
    expect(split(8, [`${"a".repeat(7)}é\n`])).toEqual([`${"a".repeat(7)}${truncationMarker(8)}`])
    expect(cutLine(`${"a".repeat(7)}é`, 8)).toBe(`${"a".repeat(7)}${truncationMarker(8)}`)
    expect(cutLine("a😀b", 3)).toBe(`a${truncationMarker(3)}`)
    // Bytes that are not UTF-8 at all are cut at the limit.
    expect(split(2, [Buffer.from([0x61, 0x80, 0x80, 0x80, 0x80, 0x0a])])).toEqual([
      `a\ufffd${truncationMarker(2)}`,
    ])
  })
})
