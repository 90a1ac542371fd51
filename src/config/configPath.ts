// Paths into the config tree: ["services", "qdrant", "deployment", "ports", 0] and their printed
// form `services.qdrant.deployment.ports[0]`, the key of LoadedConfig.origins.

export type ConfigPath = ReadonlyArray<string | number>

const plainKey = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/** `a.b[0]["odd.key"]`; the empty path prints as the empty string. */
export const formatPath = (path: ConfigPath): string => {
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else if (plainKey.test(segment)) out += out === "" ? segment : `.${segment}`
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The value at `path`, or undefined when any step is missing. */
export const getIn = (root: unknown, path: ConfigPath): unknown => {
  let node = root
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment]
    else if (isRecord(node) && typeof segment === "string") node = node[segment]
    else return undefined
  }
  return node
}

/** Sets `value` at `path`, creating (or replacing non-object) intermediate objects. */
export const setIn = (root: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): void => {
  let node = root
  for (const segment of path.slice(0, -1)) {
    const next = node[segment]
    if (isRecord(next)) node = next
    else {
      const created: Record<string, unknown> = {}
      node[segment] = created
      node = created
    }
  }
  const last = path[path.length - 1]
  if (last !== undefined) node[last] = value
}

/** Every prefix of `path`, longest first (the path itself included, the empty path excluded). */
export const prefixes = (path: ConfigPath): Array<ConfigPath> =>
  path.map((_, i) => path.slice(0, path.length - i))

/** A short human rendering of a found value for error messages. */
export const describeValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "object") return "an object"
  if (typeof value === "string") return JSON.stringify(value)
  return String(value)
}
