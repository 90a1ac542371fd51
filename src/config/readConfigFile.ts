// Reads one config file: YAML through the `yaml` package (keeping node positions so errors get
// line:column; aliases capped), JSON checked strictly (jsonSyntax.ts) then located the same way,
// or TS/JS through configModule.ts. An empty or comment-only file is an error, never `{}`.

import { readFile } from "node:fs/promises"
import { extname } from "node:path"
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml"
import { importConfigModule } from "./configModule.ts"
import { type ConfigPath, formatPath } from "./configPath.ts"
import { jsonSyntaxError } from "./jsonSyntax.ts"
import { sourceLocator } from "./sourcePositions.ts"
import { unclosedFlowAt, unclosedFlowMessage } from "./unclosedFlow.ts"

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
  /**
   * Position of the node at `path` (or of its nearest existing ancestor); for TS/JS files, of the
   * key as written in its object literal (sourcePositions.ts), undefined where none is.
   */
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

const EMPTY = "the config file is empty (write {} for a config with no settings)"

/** A problem with the whole file: no value, nothing to locate. */
const unusable = (problem: FileProblem): ConfigFile => ({
  value: {},
  locate: () => undefined,
  problems: [problem],
})

/** Most aliases a YAML document may expand: an alias bomb ("billion laughs") stops here. */
export const MAX_YAML_ALIASES = 100

const at = (counter: LineCounter, offset: number): { line: number; column: number } => {
  const { line, col } = counter.linePos(offset)
  return { line, column: col }
}

/**
 * Every key a YAML mapping sets twice, by its path (`services.web.port`), with the lines of both
 * and the place of the second: yaml's own "Map keys must be unique" names neither.
 */
const duplicateKeys = (doc: Document, counter: LineCounter): Array<FileProblem> => {
  const found: Array<FileProblem> = []
  const lineOf = (node: unknown) => {
    const range = (node as Node | null)?.range
    return range ? at(counter, range[0]) : undefined
  }
  const walk = (node: unknown, path: ConfigPath): void => {
    if (isSeq(node)) for (const [i, item] of node.items.entries()) walk(item, [...path, i])
    if (!isMap(node)) return
    const seen = new Map<string, unknown>()
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const first = seen.get(key)
      if (first === undefined) seen.set(key, pair.key)
      else {
        const [one, two] = [lineOf(first), lineOf(pair.key)]
        found.push({
          message: `${formatPath([...path, key])} is set twice${!one || !two ? "" : one.line === two.line ? `, on line ${one.line}` : `, lines ${one.line} and ${two.line}`}: a YAML mapping's keys must be unique; keep one`,
          ...(two ?? {}),
        })
      }
      walk(pair.value, [...path, key])
    }
  }
  walk(doc.contents, [])
  return found
}

const readData = (text: string, format: "yaml" | "json"): ConfigFile => {
  const counter = new LineCounter()
  if (format === "json") {
    if (text.trim() === "") return unusable({ message: EMPTY })
    // The yaml parser (kept for node positions) accepts trailing commas and other non-JSON.
    const error = jsonSyntaxError(text)
    if (error !== undefined) {
      counter.addNewLine(0)
      for (let i = 0; i < text.length; i++) if (text[i] === "\n") counter.addNewLine(i + 1)
      return unusable({ message: `invalid JSON: ${error.message}`, ...at(counter, error.offset) })
    }
    const doc = parseDocument(text, { lineCounter: counter })
    return {
      value: JSON.parse(text.replace(/^\uFEFF/, "")) as unknown,
      locate: locateIn(doc, counter),
      problems: [],
    }
  }
  // `<<: *common` merge keys (YAML 1.1, which Compose files use with their x-* anchors).
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, merge: true })
  const again = new LineCounter()
  const duplicates = doc.errors.some((e) => e.code === "DUPLICATE_KEY")
    ? duplicateKeys(parseDocument(text, { lineCounter: again, uniqueKeys: false, merge: true }), again)
    : []
  // yaml's own words stay should the walk not find what it meant.
  const duplicated = duplicates.length > 0
  const issues = [...doc.errors, ...doc.warnings].filter((e) => !duplicated || e.code !== "DUPLICATE_KEY")
  const problems: Array<FileProblem> = issues.map((e) => {
    const first = e.message.split("\n")[0] ?? e.message
    const message = first.replace(/ at line \d+, column \d+:?$/, "")
    // Where the `{` or `[` opened, not the next line where yaml noticed it was left open.
    const opened = unclosedFlowAt(text, message, e.pos[0])
    if (opened !== undefined) return { message: unclosedFlowMessage(message), ...at(counter, opened) }
    return e.linePos === undefined
      ? { message }
      : { message, line: e.linePos[0].line, column: e.linePos[0].col }
  })
  problems.push(...duplicates)
  // No node at all, or the empty scalar a bare `---` leaves (an explicit `~`/`null` has a source).
  const contents = doc.contents
  const empty = contents === null || (isScalar(contents) && contents.source === "" && contents.value === null)
  if (problems.length === 0 && empty) return unusable({ message: EMPTY })
  let value: unknown
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES })
    } catch (cause) {
      // `<<: 5`, `<<: *scalar`: yaml throws when building the value; said at the first merge key.
      if (cause instanceof Error && /^Merge sources must be/.test(cause.message)) {
        let merge: Node | undefined
        visit(doc, {
          Pair: (_, pair) => {
            if (isScalar(pair.key) && (pair.key.source === "<<" || pair.key.value === "<<")) {
              merge = pair.key
              return visit.BREAK
            }
            return undefined
          },
        })
        const range = merge?.range
        problems.push({
          message: `${cause.message} (\`<<: *anchor\` merges the mapping an anchor names, or a list of them)`,
          ...(range === undefined || range === null ? {} : at(counter, range[0])),
        })
        return { value: {}, locate: locateIn(doc, counter), problems }
      }
      // yaml throws a ReferenceError when aliases expand past maxAliasCount.
      if (!(cause instanceof ReferenceError)) throw cause
      let first: Node | undefined
      visit(doc, {
        Alias: (_, node) => {
          first ??= node
          return visit.BREAK
        },
      })
      const range = first?.range
      problems.push({
        message: `YAML aliases expand too much (more than ${MAX_YAML_ALIASES} times; an alias bomb?): write the values out or use fewer *aliases`,
        ...(range === undefined || range === null ? {} : at(counter, range[0])),
      })
    }
  }
  return { value: problems.length > 0 ? {} : value, locate: locateIn(doc, counter), problems }
}

// Only comments and blank space (a shebang too): nothing a config could export.
const isBlankSource = (source: string): boolean =>
  source
    .replace(/^#!.*/, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "")
    .trim() === ""

const readCode = async (file: string, source: string): Promise<ConfigFile> => {
  if (isBlankSource(source)) return unusable({ message: EMPTY })
  const result = await importConfigModule(file)
  return result.ok
    ? { value: result.value, locate: sourceLocator(source), problems: [] }
    : unusable(result.problem)
}

/** Reads and parses `file` by extension; I/O errors become problems, not exceptions. */
export const readConfigFile = async (file: string): Promise<ConfigFile> => {
  const ext = extname(file).toLowerCase()
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    return unusable({ message: code === "ENOENT" ? "not found" : `cannot be read (${code})` })
  }
  if (CODE_EXTENSIONS.includes(ext)) return readCode(file, text)
  return readData(text, ext === ".json" ? "json" : "yaml")
}
