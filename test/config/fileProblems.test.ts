import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { loadConfig } from "../../src/config/load.ts"
import { tempDir } from "./tempDir.ts"

// Files SAM cannot use: each is a ConfigError naming the file (and line:column where the format
// has positions), never an empty config, a stack trace or a silently different value.

const load = async (files: Record<string, string>, configPath: string) =>
  loadConfig({ cwd: await tempDir(files), configPath, env: {} })

const failure = async (files: Record<string, string>, configPath: string): Promise<string> => {
  const error = await load(files, configPath).catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.format()
}

const EMPTY = "the config file is empty (write {} for a config with no settings)"

describe("an empty or comment-only config file is rejected", () => {
  it.each([
    ["sam.yaml", ""],
    ["sam.yaml", "# settings will go here\n\n# later\n"],
    ["sam.yml", "---\n"],
    ["sam.json", "\n  \n"],
    ["sam.config.ts", ""],
    ["sam.config.ts", "// TODO: services\n/* and agents */\n"],
    ["sam.config.mjs", "#!/usr/bin/env node\n// nothing yet\n"],
    ["sam.config.js", "   \n"],
  ])("%s containing %j", async (file, content) => {
    expect(await failure({ [file]: content }, file)).toBe(`${file} ${EMPTY}`)
  })

  it("also when it is a layer beside the main file (a half-written system.yaml)", async () => {
    expect(await failure({ "sam.yaml": "{}\n", "system.yaml": "# ops\n" }, "sam.yaml")).toBe(
      `system.yaml ${EMPTY}`,
    )
  })

  it("an explicit null is not a mapping", async () => {
    expect(await failure({ "sam.yaml": "~\n" }, "sam.yaml")).toBe(
      "sam.yaml expected a mapping of settings, found null",
    )
  })

  it("while {} and services: {} are valid configs with nothing to run", async () => {
    for (const [file, content] of [
      ["sam.yaml", "services: {}\n"],
      ["sam.yaml", "{}\n"],
      ["sam.json", "{}"],
      ["sam.config.ts", "export default {}\n"],
    ] as const) {
      const loaded = await load({ [file]: content }, file)
      expect(loaded.config.services).toEqual({})
    }
  })
})

describe("a YAML flow collection left open", () => {
  it("is reported where its { or [ opened, not on the next line where the parser noticed", async () => {
    expect(
      await failure({ "sam.yaml": "api: {host: 127.0.0.1, port: 45812\nservices:\n  web: {}\n" }, "sam.yaml"),
    ).toBe('sam.yaml:1:6 this "{" is never closed: add its "}"')
    // Quotes and comments holding brackets do not count; each open one is named, innermost first.
    expect(
      await failure(
        {
          "sam.yaml":
            'services:\n  web: # a {comment}\n    deployment: {mode: process, command: "n{o}de", args: ["-e", "x"\n    health_check: {endpoint: /h}\n',
        },
        "sam.yaml",
      ),
    ).toBe(
      'sam.yaml:3:58 this "[" is never closed: add its "]"\nsam.yaml:3:17 this "{" is never closed: add its "}"',
    )
  })
})

describe(".json files are strict JSON", () => {
  it("a trailing comma is an error at its line:column", async () => {
    expect(
      await failure({ "sam.json": '{\n  "api": { "port": 8080, },\n  "services": {}\n}\n' }, "sam.json"),
    ).toBe('sam.json:2:24 invalid JSON: trailing comma before "}" (JSON allows none)')
    expect(await failure({ "sam.json": '{\n  "plugins": [\n    "./a.mjs",\n  ]\n}\n' }, "sam.json")).toBe(
      'sam.json:3:14 invalid JSON: trailing comma before "]" (JSON allows none)',
    )
  })

  it("so are comments, single quotes, unquoted keys, duplicate keys and a cut-off file", async () => {
    const cases: Array<[string, string]> = [
      [
        '{\n  // port\n  "api": {}\n}',
        'sam.json:2:3 invalid JSON: expected a double-quoted property name, found "/"',
      ],
      ["{ 'api': {} }", `sam.json:1:3 invalid JSON: expected a double-quoted property name, found "'"`],
      ["{ api: {} }", 'sam.json:1:3 invalid JSON: expected a double-quoted property name, found "a"'],
      ['{ "api": {},\n  "api": {} }', 'sam.json:2:3 invalid JSON: duplicate key "api"'],
      [
        '{ "api": { "port": 80',
        'sam.json:1:22 invalid JSON: expected "," or "}" after a property, found the end of the file',
      ],
      ['{ "api": {} } x', 'sam.json:1:15 invalid JSON: unexpected "x" after the JSON value'],
    ]
    for (const [text, expected] of cases)
      expect(await failure({ "sam.json": text }, "sam.json")).toBe(expected)
  })

  it("valid JSON still gets line:column for schema errors", async () => {
    expect(await failure({ "sam.json": '{\n  "api": { "port": "x" }\n}\n' }, "sam.json")).toBe(
      'sam.json:2:20 api.port: expected a number, found "x"',
    )
  })
})

describe("a YAML alias bomb", () => {
  it("is a config error naming the file, not a stack trace or a hang", async () => {
    const rows = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    const names = "abcdefghi"
    for (let i = 1; i < names.length; i++) {
      rows.push(
        `${names[i]}: &${names[i]} [${Array(9)
          .fill(`*${names[i - 1]}`)
          .join(", ")}]`,
      )
    }
    expect(await failure({ "sam.yaml": `${rows.join("\n")}\n` }, "sam.yaml")).toBe(
      "sam.yaml:2:8 YAML aliases expand too much (more than 100 times; an alias bomb?): write the values out or use fewer *aliases",
    )
  })

  it("while a few ordinary aliases still work", async () => {
    const loaded = await load(
      {
        "sam.yaml": [
          "x-stop: &stop { signal: SIGINT, grace_seconds: 3 }",
          "services:",
          "  a: { deployment: { mode: external, url: 'http://localhost:1' }, stop: *stop }",
          "  b: { deployment: { mode: external, url: 'http://localhost:2' }, stop: *stop }",
          "",
        ].join("\n"),
        "system.yaml": "{}\n",
      },
      "sam.yaml",
    )
    // x-stop is an extension field (as Compose's), ignored; the aliases expanded fine.
    expect(loaded.config.services.b?.stop).toMatchObject({ signal: "SIGINT", grace_seconds: 3 })
  })
})

describe("a syntax error in a TS or JS config names file:line:column", () => {
  it.each([
    ["sam.config.ts", "Expression expected"],
    ["sam.config.mts", "Expression expected"],
    ["sam.config.mjs", "Unexpected token '='"],
  ])("%s", async (file, message) => {
    const source = "export default {\n  api: { port: 1 },\n  oops: = 3,\n}\n"
    expect(await failure({ [file]: source }, file)).toBe(`${file}:3:9 syntax error: ${message}`)
  })

  it.each([
    ["sam.config.ts", "Expected ',', got '<eof>'"],
    ["sam.config.mjs", "Unexpected end of input"],
  ])("%s cut off at its end: the end of its last line", async (file, message) => {
    const source =
      'export default {\n  services: {\n    web: { deployment: { mode: "process", command: "node" } }\n'
    expect(await failure({ [file]: source }, file)).toBe(`${file}:3:62 syntax error: ${message}`)
  })

  it("a dangling operator at the end of a TS config (Expression expected, no caret): the end of its line", async () => {
    const source = "export default { services: {} }\nexport const y = (1 +\n"
    expect(await failure({ "sam.config.ts": source }, "sam.config.ts")).toBe(
      "sam.config.ts:2:22 syntax error: Expression expected",
    )
  })

  it("TypeScript Node cannot strip (an enum) is reported at its place", async () => {
    const source = "const port = 1\nenum Mode { A }\nexport default { api: { port } }\n"
    expect(await failure({ "sam.config.ts": source }, "sam.config.ts")).toBe(
      "sam.config.ts:2:1 syntax error: TypeScript enum is not supported in strip-only mode",
    )
  })

  it("a config that throws while loading says so", async () => {
    const source = "const port = 1\nif (port) throw new Error('no port today')\nexport default {}\n"
    expect(await failure({ "sam.config.ts": source }, "sam.config.ts")).toMatch(
      /^sam\.config\.ts(:2:\d+)? could not be loaded: no port today$/,
    )
  })
})
