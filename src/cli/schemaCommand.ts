// `sam schema` (described in commands.ts): the JSON Schema of config files (draft 2020-12) for
// editor completion, on stdout or into --out.

import { mkdir, writeFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import { type CommandRun, EXIT_OK, stringOption } from "./command.ts"

export const run: CommandRun = async ({ values, io }) => {
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
}
