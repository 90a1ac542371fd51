// Run by bin/sam.js before the CLI loads (the comment below says what and why).
import { mkdirSync, statSync } from "node:fs"
import nodeModule from "node:module"
import { homedir } from "node:os"
import { basename, dirname, isAbsolute, join } from "node:path"

// V8's code cache for the CLI's modules, in the user's own cache dir (not a shared /tmp one: a
// cache entry is code that gets run): `sam validate` 144 → 118 ms (bench/RESULTS.md, "Findings").
// NODE_COMPILE_CACHE picks another dir and NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's own).
// The dirs are made one level at a time (Node's recursive mkdir never returns on some paths, under
// /proc), $XDG_CACHE_HOME included, under a $HOME that exists (a HOME of /nonexistent stays so).
const compileCacheDir = () => {
  const xdg = isAbsolute(process.env.XDG_CACHE_HOME ?? "") ? process.env.XDG_CACHE_HOME : undefined // XDG: relative is ignored
  if (!xdg && !process.env.HOME) return undefined
  const [root, ...levels] = xdg
    ? [dirname(xdg), basename(xdg), "sam", "node-compile-cache"]
    : [homedir(), ".cache", "sam", "node-compile-cache"]
  let dir = root
  try {
    if (!statSync(dir).isDirectory()) return undefined
    for (const level of levels) {
      dir = join(dir, level)
      try {
        mkdirSync(dir)
      } catch (error) {
        if (error?.code !== "EEXIST") return undefined
      }
    }
  } catch {
    return undefined
  }
  return dir
}
if (process.env.NODE_COMPILE_CACHE === undefined && process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  const dir = compileCacheDir()
  if (dir !== undefined) nodeModule.enableCompileCache(dir)
}
