// The JSON Schema (draft 2020-12) of the config file format, generated from SamConfigSchema, so
// YAML/JSON config files get editor completion (`sam schema`, committed as schema/sam.schema.json).

import * as JsonSchema from "effect/JsonSchema"
import * as Schema from "effect/Schema"
import { SamConfigSchema } from "./schema.ts"

/** The schema document, with `$defs` inlined at the top so `#/$defs/...` references resolve. */
export const configJsonSchema = (): Record<string, unknown> => {
  const doc = Schema.toJsonSchemaDocument(SamConfigSchema, { onExcessProperty: "error" })
  // Compose's extension fields: top-level `x-*` keys hold YAML anchors; SAM ignores them.
  const root = doc.definitions.SamConfig
  return {
    $schema: JsonSchema.META_SCHEMA_URI_DRAFT_2020_12,
    ...doc.schema,
    $defs: {
      ...doc.definitions,
      ...(root === undefined ? {} : { SamConfig: { ...root, patternProperties: { "^x-": {} } } }),
    },
  }
}

/** The schema as written to disk: pretty JSON with a trailing newline. */
export const configJsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`
