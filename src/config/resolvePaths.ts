// Makes relative paths in the merged config absolute, each against the directory of the file that
// set it (env/cli overrides: the working directory), and fills the path defaults that depend on
// state_dir (vault files, agent data dirs). Runs on the raw merged tree, before schema decoding.

import { isAbsolute, join, resolve } from "node:path"
import { type ConfigPath, isRecord } from "./configPath.ts"
import { DEFAULT_STATE_DIR } from "./constants.ts"
import { isPathLike } from "./schema.ts"

/** The directory a relative path found at `path` is resolved against. */
export type BaseDirOf = (path: ConfigPath) => string

const abs = (value: unknown, base: string): unknown =>
  typeof value === "string" && value !== "" && !isAbsolute(value) && !value.includes("${")
    ? resolve(base, value)
    : value

const absIfDotted = (value: unknown, base: string): unknown =>
  typeof value === "string" && value.startsWith(".") ? resolve(base, value) : value

/** "./data:/srv" -> "/abs/data:/srv"; named volumes ("data:/srv") and absolute paths stay. */
export const resolveVolume = (volume: unknown, base: string): unknown => {
  if (typeof volume !== "string" || !volume.startsWith(".")) return volume
  const colon = volume.indexOf(":")
  const host = colon === -1 ? volume : volume.slice(0, colon)
  return resolve(base, host) + (colon === -1 ? "" : volume.slice(colon))
}

const records = (node: unknown): Array<[string, Record<string, unknown>]> =>
  isRecord(node)
    ? Object.entries(node).filter((e): e is [string, Record<string, unknown>] => isRecord(e[1]))
    : []

/** Mutates `raw` (the merged config). `mainDir` holds defaults not set by any file. */
export const resolvePaths = (raw: Record<string, unknown>, baseDirOf: BaseDirOf, mainDir: string): void => {
  const fix = (obj: Record<string, unknown>, key: string, path: ConfigPath, how = abs) => {
    if (obj[key] !== undefined) obj[key] = how(obj[key], baseDirOf([...path, key]))
  }

  if (raw.runtime === undefined) raw.runtime = {}
  const runtime = raw.runtime
  let stateDir: string | undefined
  if (isRecord(runtime)) {
    if (runtime.state_dir === undefined) runtime.state_dir = resolve(mainDir, DEFAULT_STATE_DIR)
    else fix(runtime, "state_dir", ["runtime"])
    if (typeof runtime.state_dir === "string" && isAbsolute(runtime.state_dir)) stateDir = runtime.state_dir
  }

  if (raw.security === undefined) raw.security = {}
  if (isRecord(raw.security)) {
    const security = raw.security
    if (security.vault === undefined) security.vault = {}
    if (isRecord(security.vault)) {
      const vault = security.vault
      fix(vault, "path", ["security", "vault"])
      fix(vault, "key_file", ["security", "vault"])
      if (stateDir !== undefined) {
        vault.path ??= join(stateDir, "vault.json")
        vault.key_file ??= join(stateDir, "vault.key")
      }
    }
  }

  // A unit's watch.paths, each against the file that set the list.
  const fixWatch = (unit: Record<string, unknown>, at: ConfigPath) => {
    const watch = unit.watch
    if (!isRecord(watch) || !Array.isArray(watch.paths)) return
    const base = baseDirOf([...at, "watch", "paths"])
    watch.paths = watch.paths.map((p) => abs(p, base))
  }

  const defaultRuntime = isRecord(runtime) ? runtime.default_agent_runtime : undefined
  for (const [id, agent] of records(raw.agents)) {
    const at: ConfigPath = ["agents", id]
    fix(agent, "path", at)
    fix(agent, "data_dir", at)
    if (agent.data_dir === undefined && stateDir !== undefined)
      agent.data_dir = join(stateDir, "agents", id, "data")
    if (agent.runtime === undefined && typeof defaultRuntime === "string") agent.runtime = defaultRuntime
    fixWatch(agent, at)
  }

  for (const [id, service] of records(raw.services)) {
    fixWatch(service, ["services", id])
    const deployment = service.deployment
    if (!isRecord(deployment)) continue
    const at: ConfigPath = ["services", id, "deployment"]
    fix(deployment, "cwd", at)
    // A process runs where the file that defined it lives, so relative args work from any cwd.
    if (deployment.mode === "process" && deployment.cwd === undefined) deployment.cwd = baseDirOf(at)
    fix(deployment, "engine", at, absIfDotted)
    if (Array.isArray(deployment.volumes)) {
      const base = baseDirOf([...at, "volumes"])
      deployment.volumes = deployment.volumes.map((v) => resolveVolume(v, base))
    }
  }

  if (Array.isArray(raw.plugins)) {
    const base = baseDirOf(["plugins"])
    raw.plugins = raw.plugins.map((plugin) => {
      if (typeof plugin === "string") return isPathLike(plugin) ? abs(plugin, base) : plugin
      if (isRecord(plugin) && plugin.path !== undefined) return { ...plugin, path: abs(plugin.path, base) }
      return plugin
    })
  }
}
