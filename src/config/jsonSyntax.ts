// Strict JSON (RFC 8259) syntax check for .json config files, with the offset of the first
// problem: the `yaml` parser that readConfigFile.ts uses for positions accepts JSON with trailing
// commas, and JSON.parse's messages carry no position for many errors. Pure.

export interface JsonSyntaxError {
  readonly message: string
  /** Offset into the text where the problem is. */
  readonly offset: number
}

class Failure {
  readonly message: string
  readonly offset: number
  constructor(message: string, offset: number) {
    this.message = message
    this.offset = offset
  }
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r"
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPE = /["\\/bfnrt]|u[0-9a-fA-F]{4}/y

const shown = (c: string | undefined): string => (c === undefined ? "the end of the file" : JSON.stringify(c))

/** The first syntax problem of `text` as strict JSON (duplicate keys included), or undefined. */
export const jsonSyntaxError = (text: string): JsonSyntaxError | undefined => {
  let i = 0
  const skip = () => {
    while (isSpace(text[i])) i++
  }
  const fail = (message: string, at = i): never => {
    throw new Failure(message, at)
  }

  const string = (): string => {
    const start = i
    i++ // opening quote
    let out = ""
    for (;;) {
      const c = text[i]
      if (c === undefined) fail("unterminated string", start)
      if (c === '"') {
        i++
        return out
      }
      if (c === "\\") {
        ESCAPE.lastIndex = i + 1
        const sequence = ESCAPE.exec(text)?.[0]
        if (sequence === undefined) fail('invalid escape in string (use \\", \\\\, \\n, \\uXXXX, ...)')
        out += JSON.parse(`"\\${sequence}"`) as string
        i += 1 + sequence!.length
        continue
      }
      if (c! < " ") fail("control character in string (write it as an escape such as \\n)")
      out += c
      i++
    }
  }

  const value = (depth: number): void => {
    if (depth > 1000) fail("nested too deeply")
    skip()
    const c = text[i]
    if (c === "{") {
      object(depth)
      return
    }
    if (c === "[") {
      array(depth)
      return
    }
    if (c === '"') {
      string()
      return
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length
        return
      }
    }
    NUMBER.lastIndex = i
    const number = NUMBER.exec(text)
    if (number !== null && number[0] !== "-") {
      i += number[0].length
      if (/[0-9.eE+-]/.test(text[i] ?? "")) fail("invalid number")
      return
    }
    fail(`expected a value, found ${shown(c)}`)
  }

  const object = (depth: number): void => {
    i++
    const keys = new Set<string>()
    skip()
    if (text[i] === "}") {
      i++
      return
    }
    for (;;) {
      skip()
      if (text[i] !== '"') {
        fail(
          text[i] === "}"
            ? 'trailing comma before "}" (JSON allows none)'
            : `expected a double-quoted property name, found ${shown(text[i])}`,
        )
      }
      const keyAt = i
      const key = string()
      if (keys.has(key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt)
      keys.add(key)
      skip()
      if (text[i] !== ":") fail(`expected ":" after the property name, found ${shown(text[i])}`)
      i++
      value(depth + 1)
      skip()
      if (text[i] === ",") {
        const comma = i
        i++
        skip()
        if (text[i] === "}") fail('trailing comma before "}" (JSON allows none)', comma)
        continue
      }
      if (text[i] === "}") {
        i++
        return
      }
      fail(`expected "," or "}" after a property, found ${shown(text[i])}`)
    }
  }

  const array = (depth: number): void => {
    i++
    skip()
    if (text[i] === "]") {
      i++
      return
    }
    for (;;) {
      value(depth + 1)
      skip()
      if (text[i] === ",") {
        const comma = i
        i++
        skip()
        if (text[i] === "]") fail('trailing comma before "]" (JSON allows none)', comma)
        continue
      }
      if (text[i] === "]") {
        i++
        return
      }
      fail(`expected "," or "]" after an element, found ${shown(text[i])}`)
    }
  }

  try {
    // A byte order mark is not JSON, but editors write one; JSON.parse is given the text without it too.
    if (text.startsWith("\uFEFF")) i = 1
    value(0)
    skip()
    if (i < text.length) fail(`unexpected ${shown(text[i])} after the JSON value`)
    return undefined
  } catch (cause) {
    if (cause instanceof Failure) return { message: cause.message, offset: cause.offset }
    throw cause
  }
}
