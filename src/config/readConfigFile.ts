// Reads one config file: YAML/JSON through the `yaml` package (keeping node positions so errors get
// line:column), or TS/JS through dynamic import of the default export (a value or a function).

import { readFile } from "node:fs/promises"
import { extname } from "node:path"
import { pathToFileURL } from "node:url"
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml"
import type { ConfigPath } from "./configPath.ts"

export interface Position {
  readonly line: number
  readonly column: number
}

export interface FileProblem {
  readonly message: string
  readonly line?: number
  readonly column?: number
}

export interface ConfigFile {
  readonly value: unknown
  /** Position of the node at `path` (or of its nearest existing ancestor); undefined for TS/JS files. */
  readonly locate: (path: ConfigPath, atKey: boolean) => Position | undefined
  readonly problems: ReadonlyArray<FileProblem>
}

export const CODE_EXTENSIONS = [".ts", ".mts", ".mjs", ".js", ".cjs"]
export const DATA_EXTENSIONS = [".yaml", ".yml", ".json"]

const locateIn =
  (doc: Document, counter: LineCounter) =>
  (path: ConfigPath, atKey: boolean): Position | undefined => {
    const at = (node: { range?: unknown } | null | undefined): Position | undefined => {
      const range = node?.range
      if (!Array.isArray(range) || typeof range[0] !== "number") return undefined
      const { line, col } = counter.linePos(range[0])
      return { line, column: col }
    }
    let node: unknown = doc.contents
    let pos = at(doc.contents as Node | null)
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]
      const last = i === path.length - 1
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
        )
        if (pair === undefined) return pos
        const keyPos = at(pair.key as Node)
        if (last) return atKey || pair.value === null ? keyPos : (at(pair.value as Node) ?? keyPos)
        // A key missing further down is shown at the key of its parent object.
        pos = keyPos ?? pos
        node = pair.value
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment] as Node | undefined
        if (item === undefined) return pos
        if (last) return at(item) ?? pos
        pos = at(item) ?? pos
        node = item
      } else return pos
    }
    return pos
  }

const readData = (text: string): ConfigFile => {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true })
  const problems: Array<FileProblem> = [...doc.errors, ...doc.warnings].map((e) => {
    const first = e.message.split("\n")[0] ?? e.message
    const message = first.replace(/ at line \d+, column \d+:?$/, "")
    return e.linePos === undefined
      ? { message }
      : { message, line: e.linePos[0].line, column: e.linePos[0].col }
  })
  const value = doc.errors.length > 0 ? undefined : (doc.toJS() as unknown)
  return { value: value ?? {}, locate: locateIn(doc, counter), problems }
}

const readCode = async (file: string): Promise<ConfigFile> => {
  const noLocation = () => undefined
  try {
    // The query defeats the module cache so a reload sees the edited file.
    const mod = (await import(`${pathToFileURL(file).href}?t=${Date.now()}-${Math.random()}`)) as {
      default?: unknown
    }
    const exported = typeof mod.default === "function" ? await (mod.default as () => unknown)() : mod.default
    if (exported === undefined) {
      return {
        value: {},
        locate: noLocation,
        problems: [{ message: "has no default export (export default defineConfig({...}))" }],
      }
    }
    return { value: exported, locate: noLocation, problems: [] }
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split("\n")[0] : String(cause)
    return { value: {}, locate: noLocation, problems: [{ message: `could not be loaded: ${message}` }] }
  }
}

/** Reads and parses `file` by extension; I/O errors become problems, not exceptions. */
export const readConfigFile = async (file: string): Promise<ConfigFile> => {
  const ext = extname(file).toLowerCase()
  if (CODE_EXTENSIONS.includes(ext)) return readCode(file)
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    return {
      value: {},
      locate: () => undefined,
      problems: [{ message: code === "ENOENT" ? "not found" : `cannot be read (${code})` }],
    }
  }
  return readData(text)
}
