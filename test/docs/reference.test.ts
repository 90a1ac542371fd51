// The reference tables of the docs are claims about the code: every config key the schema accepts
// has a row in docs/CONFIG.md or docs/GATEWAY.md, the "not implemented yet" table is the list
// `sam validate` warns about, docs/API.md's endpoint table is the OpenAPI document's paths, and its
// typed client example type-checks.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { openApiDocument } from "../../src/api/controlApi.ts"
import { configJsonSchema } from "../../src/config/jsonSchema.ts"
import { UNIMPLEMENTED_KEYS } from "../../src/config/unimplementedKeys.ts"
import { repoRoot } from "../cli/runSam.ts"
import { docBlock } from "../support/docBlock.ts"

const read = (file: string): string => readFileSync(join(repoRoot, file), "utf8")

/** The section of `text` from `heading` to the next heading of the same or a higher level. */
const section = (text: string, heading: string): string => {
  const start = text.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThanOrEqual(0)
  const level = /^#+/.exec(heading)?.[0] ?? "#"
  const next = text.slice(start + heading.length + 2).search(new RegExp(`^#{1,${level.length}} `, "m"))
  return next < 0 ? text.slice(start) : text.slice(start, start + heading.length + 2 + next)
}

/** Table rows as their cells (the first cell's backticked spans separately). */
const rows = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line.split(/(?<!\\)\|/).slice(1, -1)
      return { keys: [...(cells[0] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]!), line }
    })

interface JsonSchemaNode {
  readonly $ref?: string
  readonly properties?: Record<string, JsonSchemaNode>
  readonly additionalProperties?: JsonSchemaNode | boolean
  readonly items?: JsonSchemaNode
  readonly anyOf?: ReadonlyArray<JsonSchemaNode>
  readonly oneOf?: ReadonlyArray<JsonSchemaNode>
  readonly allOf?: ReadonlyArray<JsonSchemaNode>
}

/** Every key path the config schema accepts, `*` for a map key, with whether it holds more keys. */
const schemaPaths = (): Array<{ path: string[]; container: boolean }> => {
  const schema = configJsonSchema() as JsonSchemaNode & { $defs?: Record<string, JsonSchemaNode> }
  const defs = schema.$defs ?? {}
  const found: Array<{ path: string[]; container: boolean }> = []
  const hasKeys = (node: JsonSchemaNode | undefined, seen: ReadonlySet<string>): boolean => {
    if (!node) return false
    if (node.$ref) {
      const name = node.$ref.split("/").pop()!
      return !seen.has(name) && hasKeys(defs[name], new Set([...seen, name]))
    }
    return (
      node.properties !== undefined ||
      [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])].some((n) => hasKeys(n, seen))
    )
  }
  const walk = (node: JsonSchemaNode | undefined, at: string[], seen: ReadonlySet<string>): void => {
    if (!node) return
    if (node.$ref) {
      const name = node.$ref.split("/").pop()!
      if (!seen.has(name)) walk(defs[name], at, new Set([...seen, name]))
      return
    }
    for (const alternative of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])])
      walk(alternative, at, seen)
    for (const [key, value] of Object.entries(node.properties ?? {})) {
      found.push({ path: [...at, key], container: hasKeys(value, seen) })
      walk(value, [...at, key], seen)
    }
    if (typeof node.additionalProperties === "object") walk(node.additionalProperties, [...at, "*"], seen)
    if (node.items) walk(node.items, [...at, "[]"], seen)
  }
  walk(schema, [], new Set())
  return found
}

describe("docs/CONFIG.md", () => {
  const config = read("docs/CONFIG.md")
  const table = rows(`${config}\n${read("docs/GATEWAY.md")}`)

  it("has a row for every key the schema accepts", () => {
    // Keys described in prose rather than a table: the plugin entries and supervision groups.
    const prose = `${section(config, "### `plugins`")}\n${section(config, "### `supervision`")}`
    const undocumented = schemaPaths()
      .filter(({ container }) => !container)
      .map(({ path }) => path.filter((segment) => segment !== "*" && segment !== "[]"))
      .filter((path) => {
        const suffixes = (p: string[]) => p.map((_, i) => p.slice(i).join("."))
        const leaf = path.at(-1)!
        const word = new RegExp(`\\b${leaf}\\b`)
        // Its own row (`heartbeat.ttl_seconds`, `ttl_seconds`), or its parent's row naming it.
        if (table.some((row) => row.keys.some((key) => suffixes(path).includes(key)))) return false
        if (
          table.some(
            (row) => row.keys.some((key) => suffixes(path.slice(0, -1)).includes(key)) && word.test(row.line),
          )
        )
          return false
        if ((path[0] === "plugins" || path[0] === "supervision") && word.test(prose)) return false
        return true
      })
      .map((path) => path.join("."))
    expect(undocumented).toEqual([])
  })

  it("lists exactly the keys `sam validate` warns about as not implemented yet", () => {
    const start = config.indexOf("| Key | Instead |")
    expect(start).toBeGreaterThanOrEqual(0)
    const listed = rows(config.slice(start, config.indexOf("\n\n", start)))
    expect(listed.map((row) => row.keys[0]!.replaceAll("<id>", "*"))).toEqual(
      UNIMPLEMENTED_KEYS.map((key) => key.path),
    )
    for (const [i, row] of listed.entries()) expect(row.line).toContain(UNIMPLEMENTED_KEYS[i]!.instead)
  })
})

describe("docs/API.md's endpoint table", () => {
  const api = read("docs/API.md")

  /** `GET /api/x/:id/a` `/b`, `GET` / `POST /api/p/:name/...` → "METHOD /openapi/{path}" pairs. */
  const documented = (): string[] => {
    const pairs: string[] = []
    for (const row of rows(section(api, "## Endpoints"))) {
      const pending: string[] = []
      let last: { method: string; path: string } | undefined
      for (const span of row.keys) {
        const endpoint = /^([A-Z]+) (\/\S*)$/.exec(span)
        if (/^[A-Z]+$/.test(span)) pending.push(span)
        else if (endpoint) {
          last = { method: endpoint[1]!, path: endpoint[2]! }
          for (const method of [...pending.splice(0), last.method]) pairs.push(`${method} ${last.path}`)
        } else if (/^\/[a-z]+$/.test(span) && last)
          // `/suspend` after `POST /api/agents/:id/restart`: the same method on a sibling path.
          pairs.push(`${last.method} ${last.path.replace(/\/[^/]+$/, "")}${span}`)
      }
    }
    return pairs.map((pair) => pair.replace(/:(\w+)/g, "{$1}").replace(/\/\.\.\.$/, "/*"))
  }

  it("lists every path and method of the OpenAPI document, and nothing else", () => {
    const document = openApiDocument() as unknown as { paths: Record<string, Record<string, unknown>> }
    const served = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    )
    // `GET /api/plugins/:name` is a plugin's status, answered by the plugin routes' endpoint.
    // The document does not list itself (test/api/endpoints.test.ts fetches it).
    const claimed = documented()
      .filter((pair) => pair !== "GET /api/openapi.json")
      .map((pair) => (pair === "GET /api/plugins/{name}" ? "GET /api/plugins/{name}/*" : pair))
    expect(claimed.length).toBeGreaterThan(25)
    expect(served.filter((pair) => !claimed.includes(pair)).sort(), "served, not in docs/API.md").toEqual([])
    expect(claimed.filter((pair) => !served.includes(pair)).sort(), "in docs/API.md, not served").toEqual([])
  })
})

describe("docs/API.md's typed client example", () => {
  it("type-checks against the sources", async () => {
    // Under node_modules/ so that `effect` resolves as from the repo's root; removed afterwards.
    const dir = mkdtempSync(join(repoRoot, "node_modules", ".sam-doc-client-"))
    try {
      const block = docBlock("docs/API.md", "typed-client").replace(
        '"./src/api/controlApi.ts"',
        JSON.stringify(join(repoRoot, "src", "api", "controlApi.ts")),
      )
      writeFileSync(join(dir, "client.ts"), `${block}\nexport { program }\n`)
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ extends: join(repoRoot, "tsconfig.json"), include: [], files: ["client.ts"] }),
      )
      const tsc = join(repoRoot, "node_modules", ".bin", "tsc")
      const result = spawnSync(tsc, ["-p", join(dir, "tsconfig.json")], { encoding: "utf8" })
      expect(result.stdout + result.stderr).toBe("")
      expect(result.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
