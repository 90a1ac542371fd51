// Renders a loaded config for `sam config print`: YAML where each value carries a comment naming
// the layer it came from (`port: 7070 # defaults`), or JSON; secrets masked either way.

import { Document, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from "yaml"
import type { ConfigPath } from "./configPath.ts"
import type { LoadedConfig } from "./load.ts"
import { originOf } from "./merge.ts"
import { maskDeep } from "./secrets.ts"

const annotate = (
  node: Node | null,
  path: ConfigPath,
  origins: ReadonlyMap<string, string>,
  pair?: Pair,
): void => {
  if (isMap(node)) {
    if (node.items.length === 0) {
      node.flow = true
      node.comment = ` ${originOf(origins, path)}`
    }
    for (const item of node.items) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key)
      annotate(item.value as Node | null, [...path, key], origins, item)
    }
  } else if (isSeq(node)) {
    const origin = ` ${originOf(origins, path)}`
    // A list of scalars prints on one line with its comment; other lists get it on their key.
    if (node.items.every((item) => isScalar(item))) {
      node.flow = true
      node.comment = origin
    } else {
      if (pair !== undefined && isScalar(pair.key)) (pair.key as Scalar).comment = origin
      node.items.forEach((item, i) => {
        annotate(item as Node, [...path, i], origins)
      })
    }
  } else if (isScalar(node)) {
    node.comment = ` ${originOf(origins, path)}`
  }
}

/** YAML of the merged config with per-value origins as comments. */
export const configToYaml = (loaded: LoadedConfig): string => {
  const doc = new Document(maskDeep(loaded.config, loaded.secretValues))
  annotate(doc.contents as Node | null, [], loaded.origins)
  doc.commentBefore =
    ` Merged configuration of ${loaded.configPath}\n` +
    " Each value is annotated with the layer that set it; secrets are shown as ***."
  return doc.toString({ lineWidth: 0 })
}

/** Pretty JSON of the merged config, secrets masked. */
export const configToJson = (loaded: LoadedConfig): string =>
  `${JSON.stringify(maskDeep(loaded.config, loaded.secretValues), null, 2)}\n`
