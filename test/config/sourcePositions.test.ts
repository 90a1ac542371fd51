// A TS/JS config's problems at the line:column of the key as written, as YAML's are.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { sourceLocator } from "../../src/config/sourcePositions.ts"
import { runSam } from "../cli/runSam.ts"

const at = (src: string, path: ReadonlyArray<string | number>, atKey = true) =>
  sourceLocator(src)(path, atKey)

describe("where a key of a TS/JS config is written", () => {
  it("finds keys and values through defineConfig, quotes, arrays and nesting", () => {
    const src = [
      'import { defineConfig } from "sam"', // 1
      "export default defineConfig({", // 2
      "  api: { prot: 7070 },", // 3
      "  services: {", // 4
      '    "my-db": { deployment: { mode: "proces" } },', // 5
      "    web: {", // 6
      '      deployment: { args: ["a", "b", { c: 1 }] },', // 7
      "    },", // 8
      "  },", // 9
      "})", // 10
    ].join("\n")
    expect(at(src, ["api", "prot"])).toEqual({ line: 3, column: 10 })
    expect(at(src, ["services", "my-db", "deployment", "mode"], false)).toEqual({ line: 5, column: 36 })
    expect(at(src, ["services", "web", "deployment", "args", 1], false)).toEqual({ line: 7, column: 33 })
    expect(at(src, ["services", "web", "deployment", "args", 2, "c"])).toEqual({ line: 7, column: 40 })
    // Missing further down: the nearest key written.
    expect(at(src, ["services", "web", "health_check", "endpoint"])).toEqual({ line: 6, column: 5 })
  })

  it("is not fooled by braces in strings, template literals, comments and regular expressions", () => {
    const src = [
      "// { not: a key",
      "const shared = { interval_seconds: 1 }",
      "/* } */ export default {",
      "  a: \"}{\", b: '}', c: `x${ { y: '}' }.y }`, d: /[}{]\\//g,",
      "  e: { ...shared, f: (x) => { return { g: 1 } }, h: 2 },",
      "  i: 3,",
      "}",
    ].join("\n")
    expect(at(src, ["e", "h"])).toEqual({ line: 5, column: 50 })
    expect(at(src, ["i"])).toEqual({ line: 6, column: 3 })
    // Inside a function's body nothing is a config key.
    expect(at(src, ["e", "f", "g"])).toEqual({ line: 5, column: 19 })
  })

  it("without a literal it can read (a variable exported), nothing is placed", () => {
    expect(at("const c = { a: 1 }\nexport default c\n", ["a"])).toBeUndefined()
  })

  it("sam validate prints a sam.config.ts problem with its line and column", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-ts-pos-"))
    try {
      writeFileSync(
        join(dir, "sam.config.ts"),
        [
          "export default {",
          "  services: {",
          "    web: {",
          '      deployment: { mode: "process", command: "node" },',
          '      helth_check: { endpoint: "/health" },',
          "    },",
          "  },",
          "}",
          "",
        ].join("\n"),
      )
      const run = await runSam(["validate"], { cwd: dir })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(
        'sam.config.ts:5:7 services.web.helth_check: unknown key "helth_check" (did you mean "health_check"?)',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
