import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Ajv2020 } from "ajv/dist/2020.js"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { configJsonSchema, configJsonSchemaText } from "../../src/config/jsonSchema.ts"
import { repoRoot } from "./tempDir.ts"

const examples = ["examples/seed-agent.yaml", "examples/seed-service.yaml"]

const compile = () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  return { ajv, validate: ajv.compile(configJsonSchema()) }
}

describe("the generated JSON Schema", () => {
  it("is a valid draft 2020-12 schema (strict mode compiles it)", () => {
    const { ajv } = compile()
    expect(ajv.validateSchema(configJsonSchema())).toBe(true)
    expect(configJsonSchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema")
  })

  it.each(examples)("accepts %s", async (file) => {
    const { validate } = compile()
    const text = await readFile(join(repoRoot, file), "utf8")
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../schema/sam.schema.json")
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true)
  })

  it("accepts the repo's sam.config.ts", async () => {
    const { validate } = compile()
    const mod = (await import(pathToFileURL(join(repoRoot, "sam.config.ts")).href)) as { default: unknown }
    expect(validate(mod.default), JSON.stringify(validate.errors)).toBe(true)
  })

  it("rejects unknown keys and invalid values", () => {
    const { validate } = compile()
    expect(
      validate({
        services: { q: { deployment: { mode: "process", command: "x" }, restart_policy: "sometimes" } },
      }),
    ).toBe(false)
    expect(validate({ api: { prot: 1 } })).toBe(false)
    expect(validate({ agents: { a: { enabled: true } } })).toBe(false)
  })

  it("is committed up to date in schema/sam.schema.json", async () => {
    const committed = await readFile(join(repoRoot, "schema", "sam.schema.json"), "utf8")
    expect(committed, "run: npm run sam -- schema --out schema/sam.schema.json").toBe(configJsonSchemaText())
  })
})
