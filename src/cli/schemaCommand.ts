// `sam schema`: the JSON Schema of config files (draft 2020-12) for editor completion.

import { mkdir, writeFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { type Command, EXIT_OK, stringOption } from "./command.ts"

export const schemaCommand: Command = {
  name: "schema",
  summary: "Write the JSON Schema of config files (for editor completion)",
  description:
    "Write the JSON Schema (draft 2020-12) of SAM config files, generated from the same schema\n" +
    "that validates them. Reference it from YAML with\n" +
    "  # yaml-language-server: $schema=<path>/sam.schema.json",
  options: {
    out: {
      type: "string",
      short: "o",
      placeholder: "file",
      description: "Write to this file instead of stdout",
    },
  },
  run: async ({ values, io }) => {
    const { configJsonSchemaText } = await import("../config/jsonSchema.ts")
    const text = configJsonSchemaText()
    const out = stringOption(values, "out")
    if (out === undefined) {
      io.stdout(text)
      return EXIT_OK
    }
    const file = resolve(io.cwd, out)
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text)
    io.stderr(`wrote ${out}\n`)
    return EXIT_OK
  },
}
