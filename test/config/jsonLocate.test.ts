// A .json config's error positions (src/config/jsonLocate.ts) are the ones the yaml package's
// nodes gave before: the value, or its key, or the nearest existing ancestor's key.
import { describe, expect, it } from "vitest"
import { isMap, isScalar, LineCounter, parseDocument } from "yaml"
import { jsonLocator, positionsIn } from "../../src/config/jsonLocate.ts"

const text = `\uFEFF{
  "services": {
    "web": { "deployment": { "args": ["a", "b"], "port": 8080 } },
    "odd \\"key\\"": null
  }
}
`

describe("jsonLocator", () => {
  const locate = jsonLocator(text)

  it("gives yaml's position of every value and key of the file, and of paths under them that are not there", () => {
    const counter = new LineCounter()
    const doc = parseDocument(text, { lineCounter: counter })
    const at = (node: unknown) => {
      const range = (node as { range?: [number] } | null)?.range
      if (!range) return undefined
      const { line, col } = counter.linePos(range[0])
      return { line, column: col }
    }
    const paths: Array<Array<string | number>> = [[]]
    const walk = (value: unknown, path: Array<string | number>) => {
      if (typeof value !== "object" || value === null) return
      for (const [key, child] of Object.entries(value)) {
        const segment = Array.isArray(value) ? Number(key) : key
        paths.push([...path, segment], [...path, segment, "missing"], [...path, segment, 7])
        walk(child, [...path, segment])
      }
    }
    walk(JSON.parse(text.slice(1)), [])
    for (const path of paths) {
      const node = doc.getIn(path, true)
      if (node !== undefined && path.length > 0) {
        const parent = doc.getIn(path.slice(0, -1), true)
        const key = isMap(parent)
          ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path.at(-1)))?.key
          : node
        expect(locate(path, false), JSON.stringify(path)).toEqual(at(node))
        expect(locate(path, true), JSON.stringify(path)).toEqual(at(key))
      }
    }
    expect(paths.length).toBeGreaterThan(20)
  })

  it("points at the nearest existing ancestor's key for a path that is not there", () => {
    expect(locate(["services", "web", "health_check", "endpoint"], false)).toEqual({ line: 3, column: 5 })
    expect(locate(["services", "web", "deployment", "args", 7], false)).toEqual({ line: 3, column: 30 })
    expect(locate(["runtime"], false)).toEqual({ line: 1, column: 2 })
  })

  it("counts lines and columns from 1", () => {
    expect(positionsIn("{\n  x")(4)).toEqual({ line: 2, column: 3 })
  })
})
