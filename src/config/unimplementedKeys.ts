// Config keys the schema accepts but SAM does not act on yet: setting one is a warning (sam
// validate, the start banner via LoadedConfig.warnings), never silence. Delete an entry when its
// feature lands. load.ts runs unimplementedKeyWarnings on the merged, undecoded config.

import { type ConfigPath, formatPath, isRecord } from "./configPath.ts"

export interface UnimplementedKey {
  /** Dotted path; `*` matches any one key (a unit id). */
  readonly path: string
  /** What happens instead, for the warning. */
  readonly instead: string
}

// None at present: persona, max_queue and configuration landed in December 2026.
export const UNIMPLEMENTED_KEYS: ReadonlyArray<UnimplementedKey> = []

/** Every concrete path in `root` that `pattern` (segments, `*` for any key) names and that is set. */
const matches = (root: unknown, pattern: ReadonlyArray<string>, at: ConfigPath = []): Array<ConfigPath> => {
  if (pattern.length === 0) return root === undefined ? [] : [at]
  if (!isRecord(root)) return []
  const [head, ...rest] = pattern as [string, ...Array<string>]
  const keys = head === "*" ? Object.keys(root) : Object.hasOwn(root, head) ? [head] : []
  return keys.flatMap((key) => matches(root[key], rest, [...at, key]))
}

/** One warning per unimplemented key the user set (defaults are not in `raw`, so never warned about). */
export const unimplementedKeyWarnings = (
  raw: Record<string, unknown>,
  keys: ReadonlyArray<UnimplementedKey> = UNIMPLEMENTED_KEYS,
): Array<string> =>
  keys.flatMap((key) =>
    matches(raw, key.path.split(".")).map(
      (path) => `${formatPath(path)}: not implemented yet, the setting has no effect (${key.instead})`,
    ),
  )
