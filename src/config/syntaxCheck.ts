// Locates a syntax error in a TS/JS config file (line:column and Node's message), in a separate
// Node process: an imported ES module's SyntaxError carries no position on Node 26, and a test
// runner's loader words it differently. configModule.ts calls it only after an import failed.

import { execFile } from "node:child_process"
import { readFile } from "node:fs/promises"
import { extname } from "node:path"

export interface SyntaxProblem {
  readonly message: string
  readonly line: number
  readonly column: number
}

// TypeScript: Node's own type stripper (the parser `node file.ts` uses); it throws on any syntax
// error and on TypeScript that needs transformation (enum, namespace). `node --check` skips TS.
const CHECK_TYPESCRIPT = `
const source = require("node:fs").readFileSync(process.argv[1], "utf8")
try { require("node:module").stripTypeScriptTypes(source) }
catch (error) { process.stderr.write(String(error && error.stack)); process.exitCode = 1 }
`

const TYPESCRIPT = [".ts", ".mts", ".cts"]

/**
 * Node's report: a `<file>:<line>` header, the source line, a caret line under the column,
 * then `SyntaxError[ [CODE]]: message`. An error at the end of the file (`got '<eof>'`,
 * `Expression expected` after a dangling operator) has no caret: its place is the end of the
 * source line the header names.
 */
export const parseSyntaxReport = (report: string): SyntaxProblem | undefined => {
  const lines = report.split("\n")
  const header = /:(\d+)$/.exec(lines[0] ?? "")
  const caret = lines.findIndex((l, i) => i > 0 && /^\s*\^+\s*$/.test(l))
  const error = lines.map((l) => /^(?:SyntaxError|TypeError|Error)(?: \[\w+\])?: (.+)$/.exec(l)).find(Boolean)
  if (header === null || error == null) return undefined
  const line = Number(header[1])
  if (caret >= 0) return { message: error[1]!, line, column: lines[caret]!.indexOf("^") + 1 }
  // No caret ("Expression expected" after a dangling `(1 +`): the end of the line it names.
  const source = lines[1]
  if (source === undefined) return undefined
  return { message: error[1]!, line, column: source.length + 1 }
}

/** Node's words for a file that ends too soon: TypeScript's stripper's, and V8's. */
const AT_END = /<eof>|end of input/

/** Where a file that ends too soon ends: just after its last character that is not blank. */
const endOf = (source: string): { line: number; column: number } => {
  const lines = source.trimEnd().split("\n")
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 }
}

/** The first syntax error of `file` as Node would parse it, or undefined when it parses. */
export const findSyntaxError = (file: string): Promise<SyntaxProblem | undefined> => {
  const args = TYPESCRIPT.includes(extname(file).toLowerCase())
    ? ["-e", CHECK_TYPESCRIPT, file]
    : ["--check", file]
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--no-warnings", ...args],
      { timeout: 10_000, env: { PATH: process.env.PATH ?? "" } },
      (error, _stdout, stderr) => {
        const problem = error === null ? undefined : parseSyntaxReport(stderr)
        if (problem === undefined || !AT_END.test(problem.message)) return resolve(problem)
        // V8 names the line after the last; both name no column: the end of what is written.
        readFile(file, "utf8").then(
          (source) => resolve({ ...problem, ...endOf(source) }),
          () => resolve(problem),
        )
      },
    )
  })
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * line:column in the module at `href` itself (a query after it allowed: a fresh import's) where
 * `error` arose: Node's `file:line` + caret report, or the first stack frame in that file.
 */
export const errorPosition = (error: unknown, href: string): { line: number; column: number } | undefined => {
  const stack = error instanceof Error ? String(error.stack) : ""
  if (stack.startsWith(href)) {
    const report = parseSyntaxReport(stack)
    if (report !== undefined) return { line: report.line, column: report.column }
  }
  const frame = new RegExp(`${escapeRegExp(href)}(?:\\?[^\\s:)]*)?:(\\d+):(\\d+)`).exec(stack)
  return frame === null ? undefined : { line: Number(frame[1]), column: Number(frame[2]) }
}
