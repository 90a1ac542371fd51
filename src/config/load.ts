// loadConfig: reads and merges every layer (mergedConfig.ts: ${env.X}, relative paths), resolves
// ${vault.key}, decodes with SamConfigSchema and runs the cross checks, reporting ALL problems in
// one ConfigError.
// The runtime (createSam, daemon) and the CLI consume the LoadedConfig it returns.

import { access, constants, stat } from "node:fs/promises"
import { availableParallelism } from "node:os"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { formatPath, isRecord } from "./configPath.ts"
import { crossChecks } from "./crossChecks.ts"
import { ConfigError, type ConfigIssue, isVaultError } from "./errors.ts"
import type { IssueDraft } from "./issueDraft.ts"
import { type MergedConfig, type MergedConfigOptions, readMergedConfig, toIssue } from "./mergedConfig.ts"
import { type SamConfig, SamConfigSchema } from "./schema.ts"
import { schemaIssues } from "./schemaIssues.ts"
import { maskText, type Reference, resolveReferences } from "./secrets.ts"
import { unimplementedKeyWarnings } from "./unimplementedKeys.ts"
import { openVault, SECRET_NAME, type Vault } from "./vault.ts"
import { watchedPaths } from "./watchConfig.ts"

export interface LoadedConfig {
  /** Decoded: defaults filled, secrets resolved, relative paths made absolute. */
  readonly config: SamConfig
  /** Absolute path of the main config file. */
  readonly configPath: string
  /** Directory of the main config file. */
  readonly baseDir: string
  /** Every config file that was read (watch these for hot reload). */
  readonly files: ReadonlyArray<string>
  /** Dotted path -> layer name ("defaults.json", "sam.config.ts", "system.yaml", "env", "cli", ...). Unlisted: "defaults". */
  readonly origins: ReadonlyMap<string, string>
  /** Every resolved secret value, for masking anywhere. */
  readonly secretValues: ReadonlySet<string>
  readonly warnings: ReadonlyArray<string>
}

export interface LoadConfigOptions extends MergedConfigOptions {
  /** Environment for SAM__ overrides, ${env.X} and SAM_VAULT_KEY (default process.env). */
  readonly env?: Record<string, string | undefined>
  /**
   * "strict" (default): a missing secret or unusable vault is an error.
   * "lenient" (validate, config print): such problems are warnings and references stay as written.
   */
  readonly secrets?: "strict" | "lenient"
}

const PARSE_OPTIONS = { errors: "all", onExcessProperty: "error" } as const

const decode = Schema.decodeUnknownResult(SamConfigSchema)

/** Decode + cross checks of an already merged object (no files, secrets or path resolution). */
const check = (
  value: Record<string, unknown>,
): { config?: SamConfig; drafts: Array<IssueDraft>; warnings: Array<string> } => {
  const result = decode(value, PARSE_OPTIONS)
  const cross = crossChecks(value)
  const drafts = [
    ...(Result.isFailure(result) ? schemaIssues(result.failure.issue, value) : []),
    ...cross.issues,
  ]
  const warnings = [...cross.warnings, ...unimplementedKeyWarnings(value)]
  return Result.isSuccess(result) ? { config: result.success, drafts, warnings } : { drafts, warnings }
}

/**
 * Validates a plain config object as one layer named `fileLabel`; throws ConfigError.
 * Relative paths and secret references are left as they are.
 */
export const validateConfigObject = (value: unknown, fileLabel = "<config>"): SamConfig =>
  checkConfigObject(value, fileLabel).config

/** validateConfigObject with the schema's warnings (createSam's inline config reports them). */
export const checkConfigObject = (
  value: unknown,
  fileLabel = "<config>",
): { readonly config: SamConfig; readonly warnings: ReadonlyArray<string> } => {
  if (!isRecord(value)) {
    throw new ConfigError([
      { file: fileLabel, path: "", message: "", expected: "a mapping of settings", found: typeof value },
    ])
  }
  const result = check(value)
  if (result.config === undefined || result.drafts.length > 0) {
    throw new ConfigError(result.drafts.map((d) => toIssue(d, { file: fileLabel })))
  }
  return { config: result.config, warnings: result.warnings }
}

const isExecutable = async (file: string): Promise<boolean> => {
  try {
    await access(file, constants.X_OK)
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}

/** Whether `command` (a name looked up on PATH, or a path) can be run. */
export const onPath = async (
  command: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> => {
  if (command.includes("/")) return isExecutable(command)
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && (await isExecutable(join(dir, command)))) return true
  }
  return false
}

const isDirectory = async (path: string): Promise<boolean> => {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/**
 * Whether `command` runs as spawn would find it: a path (relative to `cwd`), or a name on `path`
 * (its relative entries also from `cwd`).
 */
const findsCommand = async (command: string, path: string, cwd: string): Promise<boolean> => {
  if (command.includes("/")) return isExecutable(resolve(cwd, command))
  for (const dir of path.split(delimiter))
    if (dir !== "" && (await isExecutable(resolve(cwd, dir, command)))) return true
  return false
}

/** `[web.mjs, --port, "3000"]`: args as a YAML flow list, quoted where YAML would misread them. */
const flowList = (args: ReadonlyArray<string>): string =>
  `[${args.map((a) => (/^[\w./@=:+-]+$/.test(a) && !/^[-+]?\d/.test(a) ? a : JSON.stringify(a))).join(", ")}]`

/**
 * What is wrong with a process service's command and cwd on this machine (warnings: the file may
 * appear later, the config may be meant for another machine): the PATH is the unit's own
 * (deployment.env.PATH) or SAM's, as its process gets.
 */
const processWarnings = async (
  id: string,
  d: { readonly command: string; readonly cwd?: string; readonly env?: Readonly<Record<string, string>> },
  env: Readonly<Record<string, string | undefined>>,
): Promise<Array<string>> => {
  const at = `services.${id}.deployment`
  const warnings: Array<string> = []
  const cwd = d.cwd ?? process.cwd()
  const cwdFound = await isDirectory(cwd)
  if (!cwdFound)
    warnings.push(
      `${at}.cwd: ${cwd} does not exist (yet) or is not a directory: the service cannot start in it`,
    )
  const command = d.command
  const path = d.env?.PATH ?? env.PATH ?? ""
  // A relative command is looked for in the cwd; with no cwd, that says nothing more.
  if (command.includes("${") || (!cwdFound && !isAbsolute(command) && command.includes("/"))) return warnings
  if (await findsCommand(command, path, cwd)) return warnings
  const words = command.trim().split(/\s+/)
  if (words.length > 1) {
    const [program, ...args] = words
    warnings.push(
      `${at}.command: "${command}" is one program, not a shell line, and there is no such file; did you mean command: ${program}, args: ${flowList(args)}? (SAM starts no shell; for one: command: sh, args: [-c, ${JSON.stringify(command)}])`,
    )
  } else if (command.includes("/"))
    warnings.push(`${at}.command: ${resolve(cwd, command)} does not exist (yet) or is not executable`)
  else
    warnings.push(
      `${at}.command: ${command} is not found on ${d.env?.PATH === undefined ? "PATH" : "the unit's PATH (deployment.env.PATH)"}, or is not executable there`,
    )
  return warnings
}

/** What the machine says of a valid config: agent paths that do not exist, engines not installed. */
export const environmentWarnings = async (
  config: SamConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Array<string>> => {
  const warnings: Array<string> = []
  for (const [id, agent] of Object.entries(config.agents)) {
    if (!agent.enabled) continue
    try {
      await stat(agent.path)
    } catch {
      warnings.push(`agents.${id}.path: ${agent.path} does not exist (yet)`)
    }
    const cpu = agent.resources?.max_cpu_percent
    if (cpu !== undefined && cpu > 100 * availableParallelism()) {
      warnings.push(
        `agents.${id}.resources.max_cpu_percent: ${cpu} is more than this machine's ${availableParallelism()} cores`,
      )
    }
  }
  let engineFound: boolean | undefined
  for (const [id, service] of Object.entries(config.services)) {
    const d = service.deployment
    if (service.enabled && d.mode === "process" && d.command !== undefined)
      warnings.push(...(await processWarnings(id, { ...d, command: d.command }, env)))
    if (!service.enabled || d.mode !== "container") continue
    if (d.engine !== undefined) {
      if (!(await onPath(d.engine, env)))
        warnings.push(`services.${id}.deployment.engine: ${d.engine} is not found or not executable`)
      continue
    }
    engineFound ??= (await onPath("docker", env)) || (await onPath("podman", env))
    if (!engineFound)
      warnings.push(`services.${id}: mode "container" needs docker or podman, and neither is on PATH`)
  }
  return warnings
}

const exists = async (path: string): Promise<boolean> => {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * A watched path that does not exist is an error (a typo would otherwise watch nothing, or a
 * parent folder nobody meant), named by the unit's key and the path.
 */
const missingWatchPaths = async (config: SamConfig, baseDir: string): Promise<Array<IssueDraft>> => {
  const units = [
    ...Object.entries(config.services)
      .filter(([, s]) => s.deployment.mode === "process")
      .map(([id, s]) => ({
        at: ["services", id],
        unit: s,
        of: { kind: "service" as const, cwd: s.deployment.cwd },
      })),
    ...Object.entries(config.agents).map(([id, a]) => ({
      at: ["agents", id],
      unit: a,
      of: { kind: "agent" as const, path: a.path },
    })),
  ]
  const drafts: Array<IssueDraft> = []
  for (const { at, unit, of } of units) {
    const watch = unit.watch
    if (!unit.enabled || watch === undefined || !watch.enabled) continue
    const paths = watchedPaths(watch, of, baseDir)
    for (const [i, path] of paths.entries()) {
      if (await exists(path)) continue
      drafts.push({
        path: watch.paths === undefined ? [...at, "watch"] : [...at, "watch", "paths", i],
        message: `${path} does not exist, so there is nothing to watch; create it or change ${formatPath([...at, "watch", "paths"])}`,
      })
    }
  }
  return drafts
}

/** Reads, merges, resolves and validates the configuration. Rejects with ConfigError. */
export const loadConfig = async (options: LoadConfigOptions = {}): Promise<LoadedConfig> =>
  validateMergedConfig(await readMergedConfig(options), options)

/**
 * The rest of loadConfig, for a caller that also wants the merged layers when they do not
 * validate (the CLI: where the running SAM is). Rejects with ConfigError.
 */
export const validateMergedConfig = async (
  merged: MergedConfig,
  options: Pick<LoadConfigOptions, "env" | "secrets"> = {},
): Promise<LoadedConfig> => {
  const env = options.env ?? process.env
  const strict = options.secrets !== "lenient"
  const { configPath, baseDir, files, raw, origins, locate } = merged
  const issues: Array<ConfigIssue> = [...merged.issues]
  const warnings: Array<string> = []
  const secretValues = new Set(merged.secretValues)
  const missing: Array<Reference> = [...merged.missing]

  // Pass 2: ${vault.key}, now that the vault location is an absolute path.
  let vault: Vault | undefined
  let vaultProblem: string | undefined
  const vaultSettings = isRecord(raw.security) && isRecord(raw.security.vault) ? raw.security.vault : {}
  const needsVault = JSON.stringify(raw).includes("${vault.")
  if (needsVault && typeof vaultSettings.path === "string" && typeof vaultSettings.key_file === "string") {
    try {
      vault = await openVault({ path: vaultSettings.path, keyFile: vaultSettings.key_file }, env)
    } catch (cause) {
      if (!isVaultError(cause)) throw cause
      vaultProblem = cause.message
    }
  }
  const vaultPass = resolveReferences(raw, {
    kinds: new Set(["vault"]),
    lookup: (_, name) => {
      try {
        return vault?.get(name)
      } catch (cause) {
        if (!isVaultError(cause)) throw cause
        vaultProblem ??= cause.message
        return undefined
      }
    },
    final: true,
  })
  const value = vaultPass.value as Record<string, unknown>
  for (const s of vaultPass.secretValues) secretValues.add(s)
  missing.push(...vaultPass.missing)

  for (const ref of vaultPass.unknown) {
    issues.push(
      locate({
        path: ref.path,
        message: `unknown reference ${ref.text}; use \${env.NAME}, \${vault.key} or (in deployment args and env) \${sam.port}, \${sam.instance}, \${sam.url.<dependency>} ($\${ for a literal)`,
      }),
    )
  }
  for (const ref of missing) {
    // A name no secret can have was reported as such above.
    if (ref.kind === "vault" && !SECRET_NAME.test(ref.name)) continue
    const what =
      ref.kind === "env"
        ? `environment variable ${ref.name} is not set (referenced as \${env.${ref.name}})`
        : vaultProblem !== undefined
          ? `cannot read \${vault.${ref.name}}: ${vaultProblem}`
          : `secret "${ref.name}" is not in the vault${vault?.exists ? "" : ` (no vault file at ${String(vaultSettings.path)})`}; add it with \`sam secrets set ${ref.name}\``
    if (strict) issues.push(locate({ path: ref.path, message: what }))
    else warnings.push(`${formatPath(ref.path)}: ${what}`)
  }

  const checked = check(value)
  issues.push(...checked.drafts.map(locate))
  if (checked.config !== undefined)
    issues.push(...(await missingWatchPaths(checked.config, baseDir)).map(locate))
  warnings.push(...checked.warnings)
  const mask = (text: string) => maskText(text, secretValues)
  if (issues.length > 0 || checked.config === undefined) {
    const byPlace = (a: ConfigIssue, b: ConfigIssue) =>
      a.file === b.file
        ? (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
        : a.file < b.file
          ? -1
          : 1
    throw new ConfigError(
      issues.sort(byPlace).map((issue) => ({
        ...issue,
        message: mask(issue.message),
        ...(issue.found === undefined ? {} : { found: mask(issue.found) }),
      })),
      warnings.map(mask),
    )
  }
  const config = checked.config
  warnings.push(...(await environmentWarnings(config, env)))

  return {
    config,
    configPath,
    baseDir,
    files,
    origins,
    secretValues,
    warnings: warnings.map(mask),
  }
}

export { ConfigError } from "./errors.ts"
