// The layering rules of docs/ARCHITECTURE.md, checked on every import of every file in src/:
// the runtime knows no surface, surfaces reach the runtime through the Sam facade (never drivers
// or the supervisor), config knows no runtime, machines import only xstate, the graph is neutral.
// A regex over `from "…"`, `import "…"` and `import("…")` is enough: SAM writes imports plainly.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

interface Import {
  /** Repo-relative path of the importing file. */
  readonly file: string
  /** As written. */
  readonly specifier: string
  /** Repo-relative path for a relative specifier; undefined for packages and node: builtins. */
  readonly target: string | undefined
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.[mc]?[jt]s$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : []
  })

/** Comments may mention `from "…"`; blank them out (line comments only where a line starts with one). */
const withoutComments = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")

const importPattern =
  /\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s+["']([^"']+)["']/g

const importsOf = (file: string): Import[] => {
  const text = withoutComments(readFileSync(join(root, file), "utf8"))
  return [...text.matchAll(importPattern)].map((match) => {
    const specifier = (match[1] ?? match[2] ?? match[3]) as string
    const target = specifier.startsWith(".")
      ? relative(root, resolve(root, dirname(file), specifier))
          .split("\\")
          .join("/")
      : undefined
    return { file, specifier, target }
  })
}

interface Rule {
  readonly name: string
  /** The importing files the rule applies to (repo-relative prefixes). */
  readonly from: ReadonlyArray<string>
  /** Whether an import breaks the rule. */
  readonly forbids: (imported: Import) => boolean
}

const under = (target: string | undefined, prefixes: ReadonlyArray<string>) =>
  target !== undefined && prefixes.some((p) => target === p || target.startsWith(`${p}/`))

const surfaces = ["src/api", "src/cli", "src/gateway", "src/dashboard", "src/metrics"]

const rules: ReadonlyArray<Rule> = [
  {
    name: "src/runtime imports no surface, plugin host, audit log or composition root",
    from: ["src/runtime"],
    forbids: (i) => under(i.target, ["src/api", "src/plugins", "src/audit", "src/cli", "src/app"]),
  },
  {
    name: "surfaces use the Sam facade, never drivers or the supervisor",
    from: surfaces,
    forbids: (i) => under(i.target, ["src/runtime/drivers", "src/runtime/supervisor"]),
  },
  {
    name: "src/config imports nothing from src/runtime",
    from: ["src/config"],
    forbids: (i) => under(i.target, ["src/runtime"]),
  },
  {
    name: "src/actors holds pure machines: it imports only xstate (and other machines)",
    from: ["src/actors"],
    forbids: (i) =>
      i.target === undefined
        ? !(i.specifier === "xstate" || i.specifier.startsWith("xstate/"))
        : !under(i.target, ["src/actors"]),
  },
  {
    name: "the dashboard's server side is plain Node: no Effect, none of the UI's code",
    from: ["src/dashboard/serve.ts", "src/dashboard/dashboardAssets.ts"],
    forbids: (i) =>
      i.specifier === "effect" || i.specifier.startsWith("effect/") || under(i.target, ["src/dashboard/ui"]),
  },
  {
    name: "src/graph is neutral: it imports no other part of SAM",
    from: ["src/graph"],
    forbids: (i) => i.target !== undefined && !under(i.target, ["src/graph"]),
  },
]

/**
 * Violations that exist today in code another change owns, each with where it should go. The
 * test fails when one disappears too, so the list cannot go stale.
 */
const knownViolations: ReadonlyArray<{
  readonly file: string
  readonly specifier: string
  readonly fix: string
}> = []

const allImports = sourceFiles("src").flatMap(importsOf)

const violations = (rule: Rule) =>
  allImports
    .filter((i) => under(i.file, rule.from) && rule.forbids(i))
    .filter((i) => !knownViolations.some((k) => k.file === i.file && k.specifier === i.specifier))
    .map((i) => `${i.file} imports "${i.specifier}"`)

describe("layering", () => {
  it("scans every source file's imports", () => {
    expect(allImports.length).toBeGreaterThan(500)
    // Its types' module twice: imported, and re-exported (`export * from`).
    const types = {
      file: "src/actors/lifecycle.machine.ts",
      specifier: "./lifecycleTypes.ts",
      target: "src/actors/lifecycleTypes.ts",
    }
    expect(importsOf("src/actors/lifecycle.machine.ts")).toEqual([
      { file: "src/actors/lifecycle.machine.ts", specifier: "xstate", target: undefined },
      types,
      types,
    ])
  })

  it("names the file and the import that break a rule", () => {
    const offending = { file: "src/runtime/sam.ts", specifier: "../api/auth.ts", target: "src/api/auth.ts" }
    expect(
      rules.filter((r) => under(offending.file, r.from) && r.forbids(offending)).map((r) => r.name),
    ).toEqual(["src/runtime imports no surface, plugin host, audit log or composition root"])
    expect(rules[3]?.forbids({ file: "src/actors/x.ts", specifier: "node:fs", target: undefined })).toBe(true)
  })

  for (const rule of rules)
    it(rule.name, () => {
      expect(violations(rule), rule.name).toEqual([])
    })

  it("every known violation still exists (remove it from the list once it is fixed)", () => {
    for (const known of knownViolations)
      expect(
        allImports.some((i) => i.file === known.file && i.specifier === known.specifier),
        `${known.file} no longer imports "${known.specifier}": remove it from knownViolations`,
      ).toBe(true)
  })
})
