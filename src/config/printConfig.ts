// Renders a loaded config for `sam config print`: YAML where each value carries a comment naming
// the layer it came from (`port: 7070 # defaults`), or JSON; secrets masked either way.

import { Document, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from "yaml"
import { type ConfigPath, formatPath } from "./configPath.ts"
import type { LoadedConfig } from "./load.ts"
import { originOf } from "./merge.ts"
import type { SamConfig } from "./schema.ts"
import { maskDeep } from "./secrets.ts"

/**
 * The key a layer's shorthand sets when SAM expands it into an object: `restart_policy: on-failure`
 * is its `type`, a plugin entry's string its `path`; the other keys are defaults.
 */
const shorthandKey = (path: ConfigPath): string | undefined => {
  const last = path.at(-1)
  if (last === "restart_policy") return "type"
  if (path.length === 2 && path[0] === "plugins" && typeof last === "number") return "path"
  return undefined
}

/** Whether a layer set `path` itself (a scalar there) and nothing under it: a shorthand. */
const isShorthand = (origins: ReadonlyMap<string, string>, path: ConfigPath): boolean => {
  const at = formatPath(path)
  if (!origins.has(at)) return false
  for (const key of origins.keys()) if (key.startsWith(`${at}.`) || key.startsWith(`${at}[`)) return false
  return true
}

const annotate = (node: Node | null, path: ConfigPath, origins: Map<string, string>, pair?: Pair): void => {
  if (isMap(node)) {
    const key = shorthandKey(path)
    // A shorthand the layer wrote: it set one key, the defaults the others (not the layer's doing).
    if (key !== undefined && path.length > 0 && isShorthand(origins, path)) {
      const layer = originOf(origins, path)
      for (const item of node.items) {
        const child = isScalar(item.key) ? String(item.key.value) : String(item.key)
        origins.set(formatPath([...path, child]), child === key ? `${layer} (shorthand)` : "defaults")
      }
    }
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

/** A plugin SAM loads without a `plugins:` entry (the project's plugins/ folder). */
export interface AutoLoadedPlugin {
  /** `plugins/<name>` */
  readonly label: string
  /** The module SAM imports. */
  readonly entry: string
}

/** The auto-loaded plugins as `plugins:` entries, each marked as such. */
const addAutoLoaded = (doc: Document, plugins: ReadonlyArray<AutoLoadedPlugin>): void => {
  if (plugins.length === 0 || !isMap(doc.contents)) return
  const pair = doc.contents.items.find((item) => isScalar(item.key) && item.key.value === "plugins")
  if (pair === undefined || !isSeq(pair.value)) return
  const seq = pair.value
  seq.flow = false
  seq.comment = null
  for (const plugin of plugins) {
    const entry = doc.createNode({ path: plugin.entry })
    entry.commentBefore = ` auto-loaded from ${plugin.label} (no plugins: entry names it)`
    seq.items.push(entry)
  }
}

/**
 * Every value shown as `***`: resolved secrets, and API tokens however they were written (a token
 * typed into the file is as secret as one from the vault).
 */
const masked = (loaded: LoadedConfig): SamConfig => {
  const tokens = Object.values(loaded.config.security.api_tokens ?? {}).map((t) => t.token)
  return maskDeep(loaded.config, new Set([...loaded.secretValues, ...tokens]))
}

/** YAML of the merged config with per-value origins as comments, auto-loaded plugins marked. */
export const configToYaml = (
  loaded: LoadedConfig,
  autoLoaded: ReadonlyArray<AutoLoadedPlugin> = [],
): string => {
  const doc = new Document(masked(loaded))
  annotate(doc.contents as Node | null, [], new Map(loaded.origins))
  addAutoLoaded(doc, autoLoaded)
  doc.commentBefore =
    ` Merged configuration of ${loaded.configPath}\n` +
    " Each value is annotated with the layer that set it; secrets are shown as ***."
  return doc.toString({ lineWidth: 0 })
}

/** Pretty JSON of the merged config, secrets masked. */
export const configToJson = (loaded: LoadedConfig): string => `${JSON.stringify(masked(loaded), null, 2)}\n`
