// The two flat override layers: environment variables `SAM__a__b__c=value` and CLI `--set a.b.c=value`.
// Values are JSON when they parse as JSON ("false", "8080", '["x"]'), else plain strings.

import { type ConfigPath, formatPath, setIn } from "./configPath.ts"

export const ENV_PREFIX = "SAM__"

export interface OverrideLayer {
  readonly value: Record<string, unknown>
  /** Where each override came from, for error messages: path -> "env SAM__a__b" / "cli --set a.b". */
  readonly sources: ReadonlyArray<{ readonly path: ConfigPath; readonly label: string }>
  /** Malformed overrides (reported as errors by the loader). */
  readonly problems: ReadonlyArray<{ readonly label: string; readonly message: string }>
}

/** JSON when it parses, else the string itself. */
export const parseOverrideValue = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

const build = (
  entries: ReadonlyArray<{ path: Array<string>; raw: string; label: string }>,
): OverrideLayer["value"] => {
  const value: Record<string, unknown> = {}
  for (const entry of entries) setIn(value, entry.path, parseOverrideValue(entry.raw))
  return value
}

/** `SAM__agents__summaryAgent__enabled=false` -> { agents: { summaryAgent: { enabled: false } } }. Case-sensitive. */
export const envLayer = (env: Readonly<Record<string, string | undefined>>): OverrideLayer => {
  const entries: Array<{ path: Array<string>; raw: string; label: string }> = []
  const problems: Array<{ label: string; message: string }> = []
  for (const name of Object.keys(env).sort()) {
    const raw = env[name]
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue
    const path = name.slice(ENV_PREFIX.length).split("__")
    const label = `env ${name}`
    if (path.some((segment) => segment === "")) {
      problems.push({ label, message: `empty path segment in ${name} (use ${ENV_PREFIX}a__b__c)` })
      continue
    }
    entries.push({ path, raw, label })
  }
  return { value: build(entries), sources: entries, problems }
}

/** `a.b.c=value` assignments from `--set`, in order (a later one wins). */
export const cliLayer = (assignments: ReadonlyArray<string>): OverrideLayer => {
  const entries: Array<{ path: Array<string>; raw: string; label: string }> = []
  const problems: Array<{ label: string; message: string }> = []
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=")
    const key = eq === -1 ? assignment : assignment.slice(0, eq)
    const label = `cli --set ${key}`
    const path = key.split(".")
    if (eq === -1 || path.some((segment) => segment === "")) {
      problems.push({
        label,
        message: `expected --set path.to.key=value, found ${JSON.stringify(assignment)}`,
      })
      continue
    }
    entries.push({ path, raw: assignment.slice(eq + 1), label })
  }
  return { value: build(entries), sources: entries, problems }
}

/** The label of the override that set `path` (or an ancestor / descendant of it). */
export const overrideLabel = (layer: OverrideLayer, path: ConfigPath): string | undefined => {
  const target = formatPath(path)
  let best: string | undefined
  for (const source of layer.sources) {
    const id = formatPath(source.path)
    if (id === target || target.startsWith(`${id}.`) || target.startsWith(`${id}[`)) best = source.label
    else if (best === undefined && id.startsWith(`${target}.`)) best = source.label
  }
  return best
}
