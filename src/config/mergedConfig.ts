// The first half of loading a config: read every layer, merge them, fill in ${env.X} and make
// relative paths absolute. load.ts goes on with the vault, decoding and the checks; the CLI also
// reads from it where a running SAM records itself when the rest of the config does not validate.

import { isAbsolute, resolve } from "node:path"
import { type ConfigPath, formatPath, isRecord, prefixes } from "./configPath.ts"
import { defaultConfigFile } from "./defaultConfigFile.ts"
import { ConfigError, type ConfigIssue } from "./errors.ts"
import type { IssueDraft } from "./issueDraft.ts"
import { type ConfigLayer, readLayers } from "./layers.ts"
import { mergeLayers } from "./merge.ts"
import { resolvePaths } from "./resolvePaths.ts"
import { malformedReferences, type Reference, resolveReferences } from "./secrets.ts"

export interface MergedConfigOptions {
  /** Main config file (default sam.config.ts in cwd). */
  readonly configPath?: string
  readonly cwd?: string
  /** Environment for SAM__ overrides and ${env.X} (default process.env). */
  readonly env?: Record<string, string | undefined>
  /** "a.b.c=value" assignments (the CLI's --set). */
  readonly cliOverrides?: ReadonlyArray<string>
}

export interface MergedConfig {
  /** Absolute path of the main config file. */
  readonly configPath: string
  /** Directory of the main config file. */
  readonly baseDir: string
  /** Every config file that was read. */
  readonly files: ReadonlyArray<string>
  /** The merged layers, ${env.X} filled in and relative paths absolute; ${vault.key} still as written. */
  readonly raw: Record<string, unknown>
  /** Dotted path -> layer name (see LoadedConfig.origins). */
  readonly origins: ReadonlyMap<string, string>
  /** Problems found so far: malformed overrides and references. */
  readonly issues: ReadonlyArray<ConfigIssue>
  /** The values ${env.X} references were replaced with. */
  readonly secretValues: ReadonlySet<string>
  /** ${env.X} references whose variable is not set. */
  readonly missing: ReadonlyArray<Reference>
  /** `draft` placed in the file (and line) of the layer that set its path. */
  readonly locate: (draft: IssueDraft) => ConfigIssue
}

/** A ConfigIssue at `where` from a draft. */
export const toIssue = (
  draft: IssueDraft,
  where: { file: string; line?: number; column?: number },
): ConfigIssue => ({
  ...where,
  path: formatPath(draft.path),
  message: draft.message,
  ...(draft.expected === undefined ? {} : { expected: draft.expected, found: draft.found ?? "nothing" }),
})

/** Reads and merges the layers; rejects with ConfigError when a file cannot be read or parsed. */
export const readMergedConfig = async (options: MergedConfigOptions = {}): Promise<MergedConfig> => {
  const cwd = resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  const configPath = resolve(cwd, options.configPath ?? defaultConfigFile(cwd))
  const baseDir = resolve(configPath, "..")

  const read = await readLayers({ configPath, cwd, env, cliOverrides: options.cliOverrides ?? [] })
  if (read.fatal) throw new ConfigError(read.issues)
  const issues: Array<ConfigIssue> = [...read.issues]

  const merged = mergeLayers(read.layers)
  const origins = new Map(merged.origins)
  const byName = new Map(read.layers.map((l) => [l.name, l]))
  const mainLayer = read.layers.find((l) => l.file === configPath)!

  /** The layer that set `path`: the value itself or an ancestor set whole, else the object that holds it. */
  const layerOf = (path: ConfigPath): ConfigLayer => {
    for (const p of prefixes(path)) {
      const name = origins.get(formatPath(p))
      if (name !== undefined) return byName.get(name) ?? mainLayer
    }
    for (const p of prefixes(path)) {
      const name = merged.containers.get(formatPath(p))
      if (name !== undefined && name !== "defaults") return byName.get(name) ?? mainLayer
    }
    return mainLayer
  }
  const locate = (draft: IssueDraft): ConfigIssue =>
    toIssue(draft, layerOf(draft.path).locate(draft.path, draft.atKey === true))

  for (const wrong of malformedReferences(merged.value)) issues.push(locate(wrong))
  // ${env.X} before paths (a path may use one); ${vault.key} waits for the vault's own path.
  const envPass = resolveReferences(merged.value, {
    kinds: new Set(["env"]),
    lookup: (_, name) => env[name],
    final: false,
  })
  const raw = envPass.value as Record<string, unknown>

  for (const agentId of isRecord(raw.agents) ? Object.keys(raw.agents) : []) {
    const agent = (raw.agents as Record<string, unknown>)[agentId]
    if (isRecord(agent) && agent.runtime === undefined && origins.has("runtime.default_agent_runtime")) {
      origins.set(`agents.${agentId}.runtime`, origins.get("runtime.default_agent_runtime")!)
    }
  }
  resolvePaths(raw, (path) => layerOf(path).baseDir, baseDir)

  return {
    configPath,
    baseDir,
    files: read.files,
    raw,
    origins,
    issues,
    secretValues: envPass.secretValues,
    missing: envPass.missing,
    locate,
  }
}

/**
 * `runtime.state_dir` as SAM would use it, whatever else is wrong with the config: an absolute
 * path (resolved against the file that set it), or undefined when this value itself is unusable
 * (not a string, or a reference that did not resolve).
 */
export const stateDirOf = (merged: MergedConfig): string | undefined => {
  const runtime = merged.raw.runtime
  return usablePath(isRecord(runtime) ? runtime.state_dir : undefined)
}

/** An absolute path with no reference left in it, else undefined. */
const usablePath = (value: unknown): string | undefined =>
  typeof value === "string" && isAbsolute(value) && !value.includes("${") ? value : undefined

/**
 * `security.vault`'s files as SAM would use them (defaults under the state dir), whatever else is
 * wrong with the config: `sam secrets` needs no valid rest (a `${vault.x}` in a typed field, the
 * very secret being set, fails the decoding until it is set).
 */
export const vaultFilesOf = (merged: MergedConfig): { path: string; keyFile: string } | undefined => {
  const security = merged.raw.security
  const vault = isRecord(security) && isRecord(security.vault) ? security.vault : undefined
  const path = usablePath(vault?.path)
  const keyFile = usablePath(vault?.key_file)
  return path === undefined || keyFile === undefined ? undefined : { path, keyFile }
}
