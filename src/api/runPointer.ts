// Where a running SAM's state dir is, by the config file it runs: one small file per config in
// the user's cache (`$XDG_CACHE_HOME/sam/run`, else `~/.cache/sam/run`, a 0700 folder). The CLI
// reads it when the config does not load (a syntax error mid-edit, a broken system.yaml): then
// the config's own `runtime.state_dir` cannot be read, and a SAM on another state dir than
// `<config dir>/.sam` would be out of reach. Written at start, removed at stop; a stale one
// names a SAM whose api.json is gone or whose pid is dead, which the CLI ignores.
// The CLI sends its token where the record leads, so nothing here is trusted that another user
// could have written: the folder, the record and the state dir it names must be the user's own,
// not writable by others, and no symlink; a record is written beside and renamed into place.
import { createHash } from "node:crypto"
import { chmodSync, lstatSync, mkdirSync, readFileSync, type Stats } from "node:fs"
import { rename, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"

type Env = Readonly<Record<string, string | undefined>>

/** The folder of the pointers, or undefined without a home to keep it in. */
const pointerDir = (env: Env): string | undefined => {
  const cache = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, ".cache") : undefined)
  return cache === undefined ? undefined : join(cache, "sam", "run")
}

const pointerFile = (dir: string, configFile: string): string =>
  join(dir, `${createHash("sha256").update(configFile).digest("hex").slice(0, 32)}.json`)

/** A file or folder of this user's own that no one else may write, and no symlink. */
const ownedPrivately = (path: string, kind: (stats: Stats) => boolean): boolean => {
  try {
    const stats = lstatSync(path)
    return kind(stats) && stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0
  } catch {
    return false
  }
}

const isDirectory = (stats: Stats) => stats.isDirectory()
const isFile = (stats: Stats) => stats.isFile()

/** Record that the SAM running `configFile` keeps its state in `stateDir`. */
export const writeRunPointer = async (env: Env, configFile: string, stateDir: string): Promise<void> => {
  const dir = pointerDir(env)
  if (dir === undefined) return
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // A folder of the user's own that is wider (made by hand): narrowed. Another's: not used.
  const stats = lstatSync(dir)
  if (!stats.isDirectory() || stats.uid !== process.getuid?.())
    throw new Error(`${dir} is not a folder of this user's own`)
  if ((stats.mode & 0o077) !== 0) chmodSync(dir, 0o700)
  const file = pointerFile(dir, configFile)
  // Written beside and renamed: a symlink planted at the record's name is replaced, not followed.
  const fresh = `${file}.${process.pid}.tmp`
  await writeFile(fresh, `${JSON.stringify({ config: configFile, stateDir })}\n`, { mode: 0o600, flag: "wx" })
  await rename(fresh, file)
}

/** Remove the record, unless another SAM has written its own since (it names another state dir). */
export const removeRunPointer = async (env: Env, configFile: string, stateDir: string): Promise<void> => {
  const dir = pointerDir(env)
  if (dir === undefined || readRunPointer(env, configFile) !== stateDir) return
  await rm(pointerFile(dir, configFile), { force: true })
}

/** The state dir recorded for `configFile`, if any that this user's own SAM could have written. */
export const readRunPointer = (env: Env, configFile: string): string | undefined => {
  const dir = pointerDir(env)
  if (dir === undefined || !ownedPrivately(dir, isDirectory)) return undefined
  const file = pointerFile(dir, configFile)
  if (!ownedPrivately(file, isFile)) return undefined
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as { config?: unknown; stateDir?: unknown }
    if (record.config !== configFile || typeof record.stateDir !== "string") return undefined
    // The state dir SAM made is 0700 (privateDir.ts): one another user could write is not this SAM's.
    return ownedPrivately(record.stateDir, isDirectory) ? record.stateDir : undefined
  } catch {
    return undefined
  }
}
