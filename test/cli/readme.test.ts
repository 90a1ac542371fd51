// The CLI tables of README.md and docs/API.md are claims about the command table: every command
// they show exists with the flags and arguments they show, and the README lists every command.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Command } from "../../src/cli/command.ts"
import { sam } from "../../src/cli/commands.ts"
import { repoRoot } from "./runSam.ts"

/** The first column (what a user types) of the table under `heading` in `file`, as `sam ...` spans. */
const tableSpans = (file: string, heading: string): string[] => {
  const text = readFileSync(join(repoRoot, file), "utf8")
  const start = text.indexOf(heading)
  expect(start, `${file}: ${heading}`).toBeGreaterThanOrEqual(0)
  const section = text.slice(start, text.indexOf("\n## ", start + 1))
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]!))
    .map((span) => (span.startsWith("sam ") ? span : `sam ${span}`))
    .flatMap(expand)
}

/** `sam secrets set/get/list/rm` → `sam secrets set`, `sam secrets get`, ... */
const expand = (span: string): string[] => {
  const [head = "", ...rest] = span.split(" ")
  const words = [head, ...rest]
  const at = words.findIndex((w) => w.includes("/") && !w.startsWith("[") && !w.startsWith("<"))
  if (at < 0) return [span]
  return words[at]!.split("/").map((choice) =>
    [...words.slice(0, at), choice, ...words.slice(at + 1)].join(" "),
  )
}

const resolve = (names: ReadonlyArray<string>): { command: Command; rest: string[] } => {
  let command: Command = sam
  const rest = [...names]
  while (rest.length > 0) {
    const found = command.subcommands?.find((c) => c.name === rest[0])
    if (!found) break
    command = found
    rest.shift()
  }
  return { command, rest }
}

describe("the CLI tables of the docs", () => {
  const readme = tableSpans("README.md", "## The `sam` CLI")
  const api = tableSpans("docs/API.md", "## CLI against a running SAM")

  it("show commands that exist, with their flags and arguments", () => {
    expect(readme.length).toBeGreaterThan(15)
    expect(api.length).toBeGreaterThan(10)
    for (const span of [...readme, ...api]) {
      // The command words come first, up to the first flag or argument.
      const words = span.split(" ").slice(1)
      const end = words.findIndex((w) => /^[[<-]/.test(w))
      const { command, rest } = resolve(end < 0 ? words : words.slice(0, end))
      expect(rest, span).toEqual([])
      for (const [, flag] of span.matchAll(/--([\w-]+)/g))
        expect(Object.keys(command.options ?? {}), `${span}: --${flag}`).toContain(flag)
      const shorts = Object.values(command.options ?? {}).map((spec) => spec.short)
      for (const [, short] of span.matchAll(/(?<![\w-])-(\w)\b/g))
        expect(shorts, `${span}: -${short}`).toContain(short)
      const positionals = [...span.matchAll(/(<[^>]+>|\[(?!--)[^\]]+\])/g)].length
      expect(command.positionals?.max ?? 0, `${span}: arguments`).toBeGreaterThanOrEqual(positionals)
      expect(
        command.load !== undefined || command === sam.subcommands?.find((c) => c.name === "help"),
        span,
      ).toBe(true)
    }
  })

  it("the README lists every top-level command", () => {
    const shown = new Set(readme.map((span) => span.split(" ")[1]))
    for (const command of sam.subcommands ?? []) expect([...shown], command.name).toContain(command.name)
  })
})
