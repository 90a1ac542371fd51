import { describe, expect, it } from "vitest"
import { LineSplitter, truncationMarker } from "../../src/runtime/output/lineSplitter.ts"

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
})
