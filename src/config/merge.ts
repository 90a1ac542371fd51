// Pure layer merging: objects deep-merged, arrays and scalars replaced, later layers win.
// Records which layer set each value so `config print` and error messages can name it.

import { type ConfigPath, formatPath, isRecord } from "./configPath.ts"

export interface MergeLayer {
  /** Origin name: "defaults.json", "sam.config.ts", "system.yaml", "env", "cli", ... */
  readonly name: string
  /** The layer's raw content; anything but a plain object is ignored (load.ts reports it). */
  readonly value: unknown
}

export interface MergeResult {
  readonly value: Record<string, unknown>
  /** Leaf values (scalars and whole arrays) -> the layer that set them. */
  readonly origins: Map<string, string>
  /** Objects -> the first layer that introduced them (where a missing key belongs). */
  readonly containers: Map<string, string>
}

const dropUnder = (map: Map<string, string>, key: string): void => {
  for (const k of [...map.keys()]) {
    if (k.startsWith(`${key}.`) || k.startsWith(`${key}[`)) map.delete(k)
  }
}

const clone = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(clone)
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]))
  return value
}

/**
 * Merges `layers` in order. `undefined` values (possible in TS config files) count as absent.
 *
 * @example
 * mergeLayers([{ name: "a", value: { x: { y: 1, z: [1] } } }, { name: "b", value: { x: { z: [2] } } }])
 * // value { x: { y: 1, z: [2] } }, origins x.y -> a, x.z -> b
 */
export const mergeLayers = (layers: ReadonlyArray<MergeLayer>): MergeResult => {
  const origins = new Map<string, string>()
  const containers = new Map<string, string>()
  const root: Record<string, unknown> = {}

  const mergeInto = (
    target: Record<string, unknown>,
    source: Record<string, unknown>,
    path: ConfigPath,
    name: string,
  ) => {
    for (const [key, incoming] of Object.entries(source)) {
      if (incoming === undefined) continue
      const childPath = [...path, key]
      const id = formatPath(childPath)
      const existing = target[key]
      if (isRecord(incoming)) {
        if (!isRecord(existing)) {
          origins.delete(id)
          dropUnder(containers, id)
          target[key] = {}
          containers.set(id, name)
        }
        mergeInto(target[key] as Record<string, unknown>, incoming, childPath, name)
      } else {
        if (isRecord(existing)) {
          containers.delete(id)
          dropUnder(containers, id)
          dropUnder(origins, id)
        }
        target[key] = clone(incoming)
        origins.set(id, name)
      }
    }
  }

  for (const layer of layers) {
    if (isRecord(layer.value)) mergeInto(root, layer.value, [], layer.name)
  }
  return { value: root, origins, containers }
}

/**
 * The layer a value came from: its own entry, else the nearest ancestor that was set as a whole
 * (a short-form restart policy, an array), else "defaults".
 */
export const originOf = (origins: ReadonlyMap<string, string>, path: ConfigPath): string => {
  for (let n = path.length; n > 0; n--) {
    const hit = origins.get(formatPath(path.slice(0, n)))
    if (hit !== undefined) return hit
  }
  return "defaults"
}
