// Where a key of a TS/JS config file is written, so its problems get line:column as YAML's do
// (`sam.config.ts:4:7 services.web.helth_check: unknown key ...`). A scan of the object literal
// that `export default` (or `module.exports =`) gives, through `defineConfig(...)`: keys written
// in it are found; what a variable, spread or call supplies is not, and a problem there is shown
// at the nearest key that is written. Strings, template literals, comments and regular
// expressions are skipped whole, so a brace inside them does not count.
import type { ConfigPath } from "./configPath.ts"
import type { Position } from "./readConfigFile.ts"

interface Written {
  readonly key: number
  /** Where its value begins (for a problem with the value rather than the key). */
  readonly value: number
}

const root = /(?:export\s+default|module\.exports\s*=)\s*(?:defineConfig\s*)?(?:\(\s*)?(?=[{[])/

const isSpace = (c: string | undefined) => c === " " || c === "\n" || c === "\t" || c === "\r"
const isWordChar = (c: string | undefined) => c !== undefined && /[\w$]/.test(c)

/** The position after a string, template literal, comment or regex that starts at `i`, else i. */
const skipOpaque = (src: string, i: number, regexAllowed: boolean): number => {
  const c = src[i]
  if (c === '"' || c === "'") {
    let j = i + 1
    while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1
    return j + 1
  }
  if (c === "`") {
    let j = i + 1
    while (j < src.length && src[j] !== "`") {
      if (src[j] === "\\") j += 2
      else if (src[j] === "$" && src[j + 1] === "{") j = skipUntilClose(src, j + 2, "}")
      else j++
    }
    return j + 1
  }
  if (c === "/" && src[i + 1] === "/") {
    const end = src.indexOf("\n", i)
    return end < 0 ? src.length : end
  }
  if (c === "/" && src[i + 1] === "*") {
    const end = src.indexOf("*/", i + 2)
    return end < 0 ? src.length : end + 2
  }
  if (c === "/" && regexAllowed) {
    let j = i + 1
    let inClass = false
    while (j < src.length && src[j] !== "\n") {
      if (src[j] === "\\") j++
      else if (src[j] === "[") inClass = true
      else if (src[j] === "]") inClass = false
      else if (src[j] === "/" && !inClass) return j + 1
      j++
    }
    return j
  }
  return i
}

/** After the `close` that ends what begins at `i` (nested brackets and opaque text skipped). */
const skipUntilClose = (src: string, i: number, close: string): number => {
  let j = i
  while (j < src.length && src[j] !== close) j = skipItem(src, j)
  return j + 1
}

/** One character, or a whole opaque run or bracketed group, from `i`. */
const skipItem = (src: string, i: number): number => {
  const before = src
    .slice(Math.max(0, i - 40), i)
    .trimEnd()
    .at(-1)
  const opaque = skipOpaque(src, i, before === undefined || "(,=:[!&|?{};".includes(before))
  if (opaque !== i) return opaque
  const c = src[i]
  if (c === "{") return skipUntilClose(src, i + 1, "}")
  if (c === "[") return skipUntilClose(src, i + 1, "]")
  if (c === "(") return skipUntilClose(src, i + 1, ")")
  return i + 1
}

const skipBlank = (src: string, i: number): number => {
  let j = i
  for (;;) {
    while (isSpace(src[j])) j++
    const after = src[j] === "/" && (src[j + 1] === "/" || src[j + 1] === "*") ? skipOpaque(src, j, false) : j
    if (after === j) return j
    j = after
  }
}

/** To the `,` or closing bracket that ends an expression in a list or object. */
const skipExpression = (src: string, i: number): number => {
  let j = i
  while (j < src.length && !",}])".includes(src[j] as string)) j = skipItem(src, j)
  return j
}

const scan = (src: string, start: number): Map<string, Written> => {
  const found = new Map<string, Written>()
  const value = (i: number, path: ReadonlyArray<string | number>): number => {
    const j = skipBlank(src, i)
    if (src[j] === "{") return object(j + 1, path)
    if (src[j] === "[") return list(j + 1, path)
    return skipExpression(src, j)
  }
  const object = (i: number, path: ReadonlyArray<string | number>): number => {
    let j = i
    while (j < src.length) {
      j = skipBlank(src, j)
      if (src[j] === "}") return j + 1
      if (src[j] === ",") {
        j++
        continue
      }
      const keyAt = j
      let key: string | undefined
      if (src[j] === '"' || src[j] === "'") {
        const end = skipOpaque(src, j, false)
        key = src.slice(j + 1, end - 1)
        j = end
      } else if (isWordChar(src[j])) {
        while (isWordChar(src[j])) j++
        key = src.slice(keyAt, j)
      } else {
        // A spread, a computed key or anything else: not a key written here.
        j = skipExpression(src, j)
        continue
      }
      j = skipBlank(src, j)
      if (src[j] === ":") {
        const at = skipBlank(src, j + 1)
        found.set(JSON.stringify([...path, key]), { key: keyAt, value: at })
        j = value(at, [...path, key])
      } else {
        // Shorthand (`{ web }`) or a method: written here, its value is elsewhere.
        found.set(JSON.stringify([...path, key]), { key: keyAt, value: keyAt })
        j = skipExpression(src, j)
      }
    }
    return j
  }
  const list = (i: number, path: ReadonlyArray<string | number>): number => {
    let j = i
    let index = 0
    while (j < src.length) {
      j = skipBlank(src, j)
      if (src[j] === "]") return j + 1
      if (src[j] === ",") {
        index++
        j++
        continue
      }
      const at = j
      found.set(JSON.stringify([...path, index]), { key: at, value: at })
      j = value(at, [...path, index])
      // A value that ends on something else (a stray `)`): stop rather than loop.
      if (j === at) return src.length
    }
    return j
  }
  value(start, [])
  return found
}

/** Line and column (1-based) of each offset, from the line starts. */
const positionOf = (src: string) => {
  const starts = [0]
  for (let i = 0; i < src.length; i++) if (src[i] === "\n") starts.push(i + 1)
  return (offset: number): Position => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((starts[mid] as number) <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 }
  }
}

/**
 * The locator of a TS/JS config's source: the key at `path` (its value unless `atKey`), or the
 * nearest key above it that is written in the file; undefined when none is (no literal found).
 */
export const sourceLocator = (src: string): ((path: ConfigPath, atKey: boolean) => Position | undefined) => {
  const match = root.exec(src)
  if (match === null) return () => undefined
  const found = scan(src, match.index + match[0].length)
  const position = positionOf(src)
  return (path, atKey) => {
    for (let n = path.length; n > 0; n--) {
      const written = found.get(JSON.stringify(path.slice(0, n)))
      if (written === undefined) continue
      return position(n === path.length && !atKey ? written.value : written.key)
    }
    return undefined
  }
}
