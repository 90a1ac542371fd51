// Which changes under a unit's watched paths count (WatchSpec.ignore and ignoreDirs), and how a
// changed path is named in a reason. Pure path arithmetic; unitWatcher.ts applies it to fs events
// and to the folders the watcher descends into.
import { isAbsolute, relative, resolve, sep } from "node:path"
import type { WatchSpec } from "../unitSpec.ts"

/** `path` is `dir` or lies beneath it. */
const within = (path: string, dir: string): boolean =>
  path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep)

/** Characters a RegExp would read as syntax. */
const special = /[.+^${}()|[\]\\/]/g

/**
 * A glob as a RegExp over a whole "/"-separated path: `*` and `?` within one name, `**` across
 * folders, `[abc]` / `[!abc]` classes. A leading dot is matched like any character (`*.swp`
 * matches vim's `.server.ts.swp`), unlike a shell's glob.
 */
export const globRegExp = (glob: string): RegExp => {
  let source = ""
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === "*" && glob[i + 1] === "*") {
      i++
      // "**/" is any number of folders, none included; "**" elsewhere anything.
      if (glob[i + 1] === "/") {
        i++
        source += "(?:.*/)?"
      } else source += ".*"
    } else if (c === "*") source += "[^/]*"
    else if (c === "?") source += "[^/]"
    else if (c === "[" && glob.indexOf("]", i + 2) !== -1) {
      const end = glob.indexOf("]", i + 2)
      const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\")
      source += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`
      i = end
    } else source += c.replace(special, "\\$&")
  }
  return new RegExp(`^${source}$`)
}

/** `path` ("/"-separated) and each folder above it: "a/b/c" → "a", "a/b", "a/b/c". */
const prefixes = (path: string): Array<string> => {
  const names = path.split("/")
  return names.map((_, i) => names.slice(0, i + 1).join("/"))
}

/** One pattern as a test of a changed path: `rel` from the watched folder, `abs` from the root. */
const compile = (pattern: string): ((rel: string, abs: string) => boolean) => {
  const trimmed = pattern.length > 1 && pattern.endsWith("/") ? pattern.slice(0, -1) : pattern
  const re = globRegExp(trimmed)
  // A name: any file or folder of that name, and so everything beneath a folder of that name.
  if (!trimmed.includes("/")) return (rel) => rel.split("/").some((name) => re.test(name))
  // A path: that file, or that folder and everything beneath it.
  if (isAbsolute(trimmed)) return (_, abs) => prefixes(abs.split(sep).join("/")).some((p) => re.test(p))
  return (rel) => prefixes(rel).some((p) => re.test(p))
}

/**
 * The predicate of a unit's ignore rules over absolute paths. A watched path itself is never
 * ignored by a pattern (naming it in `paths` is asking for it); the state and data dirs always are.
 *
 * @example
 * ```ts
 * const ignored = ignoreRule({ paths: ["/app"], ignore: ["node_modules", "dist/**"], ignoreDirs: ["/app/.sam"] })
 * ignored("/app/node_modules/x/index.js") // true
 * ignored("/app/src/index.js") // false
 * ```
 */
export const ignoreRule = (
  spec: Pick<WatchSpec, "paths" | "ignore" | "ignoreDirs">,
): ((path: string) => boolean) => {
  const roots = spec.paths.map((p) => resolve(p)).sort((a, b) => b.length - a.length)
  const dirs = spec.ignoreDirs.map((d) => resolve(d))
  const patterns = spec.ignore.map(compile)
  return (path) => {
    const abs = resolve(path)
    if (dirs.some((dir) => within(abs, dir))) return true
    const root = roots.find((r) => within(abs, r))
    if (root === undefined || root === abs) return false
    const rel = relative(root, abs).split(sep).join("/")
    return patterns.some((matches) => matches(rel, abs))
  }
}

/** A changed path as a reason names it: from `relativeTo` when beneath it, else absolute. */
export const describeChange = (path: string, relativeTo: string | undefined): string => {
  if (relativeTo === undefined) return path
  const rel = relative(relativeTo, path)
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel
}
