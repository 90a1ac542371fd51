// Where a config path is in a .json config file, as line:column for its error messages: the same
// answers readConfigFile.ts gives for YAML from the `yaml` package's nodes, without loading that
// package for a JSON config (bench/RESULTS.md, "Supervisor RSS"). Pure; the text is valid JSON.

import type { ConfigPath } from "./configPath.ts"

export interface JsonPosition {
  readonly line: number
  readonly column: number
}

/** A value of the text: where it starts, and its members (objects: by key; arrays: by index). */
interface JsonNode {
  readonly start: number
  readonly members?: Map<string, { readonly keyStart: number; readonly value: JsonNode }>
  readonly items?: ReadonlyArray<JsonNode>
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r"

/** The tree of value positions of `text`, which jsonSyntaxError found valid. */
const parseNodes = (text: string): JsonNode => {
  let i = text.startsWith("\uFEFF") ? 1 : 0
  const skip = () => {
    while (isSpace(text[i])) i++
  }
  const string = (): string => {
    const start = i
    i++
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (): JsonNode => {
    skip()
    const start = i
    const c = text[i]
    if (c === "{") {
      i++
      const members = new Map<string, { keyStart: number; value: JsonNode }>()
      skip()
      while (text[i] !== "}") {
        skip()
        const keyStart = i
        const key = string()
        skip()
        i++ // ":"
        members.set(key, { keyStart, value: value() })
        skip()
        if (text[i] === ",") i++
        skip()
      }
      i++
      return { start, members }
    }
    if (c === "[") {
      i++
      const items: JsonNode[] = []
      skip()
      while (text[i] !== "]") {
        items.push(value())
        skip()
        if (text[i] === ",") i++
        skip()
      }
      i++
      return { start, items }
    }
    if (c === '"') string()
    else while (i < text.length && !isSpace(text[i]) && !",]}".includes(text[i]!)) i++
    return { start }
  }
  return value()
}

/** Line and column (both from 1) of an offset into `text`. */
export const positionsIn = (text: string): ((offset: number) => JsonPosition) => {
  let lineStarts: number[] | undefined
  return (offset) => {
    lineStarts ??= [0, ...[...text.matchAll(/\n/g)].map((m) => m.index + 1)]
    let low = 0
    let high = lineStarts.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if (lineStarts[mid]! <= offset) low = mid
      else high = mid - 1
    }
    return { line: low + 1, column: offset - lineStarts[low]! + 1 }
  }
}

/**
 * locate(path, atKey) for a JSON config: the position of the value at `path` (of its key with
 * `atKey`), or of the key of its nearest existing ancestor, or of the document's value.
 */
export const jsonLocator = (text: string): ((path: ConfigPath, atKey: boolean) => JsonPosition) => {
  let root: JsonNode | undefined
  const position = positionsIn(text)
  return (path, atKey) => {
    root ??= parseNodes(text)
    let node = root
    let at = node.start
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!
      const last = i === path.length - 1
      if (node.members) {
        const member = node.members.get(String(segment))
        if (member === undefined) break
        if (last) return position(atKey ? member.keyStart : member.value.start)
        // A key missing further down is shown at the key of its parent object.
        at = member.keyStart
        node = member.value
      } else if (node.items && typeof segment === "number") {
        const item = node.items[segment]
        if (item === undefined) break
        at = item.start
        if (last) break
        node = item
      } else break
    }
    return position(at)
  }
}
