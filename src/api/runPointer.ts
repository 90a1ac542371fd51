// Where a running SAM's state dir is, by the config file it runs: one small file per config in
// the user's cache (`$XDG_CACHE_HOME/sam/run`, else `~/.cache/sam/run`, a 0700 folder). The CLI
// reads it when the config does not load (a syntax error mid-edit, a broken system.yaml): then
// the config's own `runtime.state_dir` cannot be read, and a SAM on another state dir than
// `<config dir>/.sam` would be out of reach. Written at start, removed at stop; a stale one
// names a SAM whose api.json is gone or whose pid is dead, which the CLI ignores.
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync } from "node:fs"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"

type Env = Readonly<Record<string, string | undefined>>

/** The folder of the pointers, or undefined without a home to keep it in. */
const pointerDir = (env: Env): string | undefined => {
  const cache = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, ".cache") : undefined)
  return cache === undefined ? undefined : join(cache, "sam", "run")
}

const pointerFile = (dir: string, configFile: string): string =>
  join(dir, `${createHash("sha256").update(configFile).digest("hex").slice(0, 32)}.json`)

/** Record that the SAM running `configFile` keeps its state in `stateDir`. */
export const writeRunPointer = async (env: Env, configFile: string, stateDir: string): Promise<void> => {
  const dir = pointerDir(env)
  if (dir === undefined) return
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  await writeFile(pointerFile(dir, configFile), `${JSON.stringify({ config: configFile, stateDir })}\n`, {
    mode: 0o600,
  })
}

/** Remove the record, unless another SAM has written its own since (it names another state dir). */
export const removeRunPointer = async (env: Env, configFile: string, stateDir: string): Promise<void> => {
  const dir = pointerDir(env)
  if (dir === undefined || readRunPointer(env, configFile) !== stateDir) return
  await rm(pointerFile(dir, configFile), { force: true })
}

/** The state dir recorded for `configFile`, if any. */
export const readRunPointer = (env: Env, configFile: string): string | undefined => {
  const dir = pointerDir(env)
  if (dir === undefined) return undefined
  try {
    const record = JSON.parse(readFileSync(pointerFile(dir, configFile), "utf8")) as {
      config?: unknown
      stateDir?: unknown
    }
    return record.config === configFile && typeof record.stateDir === "string" ? record.stateDir : undefined
  } catch {
    return undefined
  }
}
