// Code blocks of the docs, for tests that run them: the fenced block right after a
// `<!-- doc-test: <name> ... -->` marker in a markdown file, so the docs cannot drift.
import { readFileSync } from "node:fs"
import { join } from "node:path"

const repoRoot = join(import.meta.dirname, "..", "..")

/** The code of the block marked `<!-- doc-test: name -->` in `file` (relative to the repo root). */
export const docBlock = (file: string, name: string): string => {
  const text = readFileSync(join(repoRoot, file), "utf8")
  const marker = text.indexOf(`<!-- doc-test: ${name} `)
  if (marker < 0) throw new Error(`${file} has no "<!-- doc-test: ${name} ... -->" marker`)
  // A block in a list item is indented: its lines come back without the indentation.
  const block = /^( *)```[a-z]*\n([\s\S]*?)^\1```$/m.exec(text.slice(marker))
  if (!block?.[2]) throw new Error(`${file}: no fenced code block after the doc-test marker "${name}"`)
  const indent = block[1] ?? ""
  return block[2]
    .split("\n")
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join("\n")
}
