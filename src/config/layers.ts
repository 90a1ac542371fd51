// Reads the config layers in merge order: built-in defaults, defaults.json, the main file,
// system.yaml, local-overrides.yaml (all beside the main file), SAM__ env vars, --set overrides.
// Each layer knows its base directory (for relative paths) and how to locate a path for errors.

import { stat } from "node:fs/promises"
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path"
import { type ConfigPath, describeValue, isRecord } from "./configPath.ts"
import { DEFAULT_CONFIG_FILE, DEFAULTS_FILE, LOCAL_OVERRIDES_FILE, SYSTEM_FILE } from "./constants.ts"
import { configFilesIn } from "./defaultConfigFile.ts"
import { cliLayer, envLayer, type OverrideLayer, overrideLabel } from "./envLayer.ts"
import type { ConfigIssue } from "./errors.ts"
import { CODE_EXTENSIONS, type ConfigFile, DATA_EXTENSIONS, readConfigFile } from "./readConfigFile.ts"

export interface Location {
  readonly file: string
  readonly line?: number
  readonly column?: number
}

export interface ConfigLayer {
  /** Origin name used in LoadedConfig.origins. */
  readonly name: string
  readonly value: unknown
  /** Relative paths set by this layer resolve against this directory. */
  readonly baseDir: string
  /** Absolute path when the layer is a file. */
  readonly file?: string
  readonly locate: (path: ConfigPath, atKey: boolean) => Location
}

export interface ReadLayersResult {
  readonly layers: ReadonlyArray<ConfigLayer>
  readonly files: ReadonlyArray<string>
  /** Parse errors and malformed overrides; file parse errors make the layers unusable. */
  readonly issues: ReadonlyArray<ConfigIssue>
  readonly fatal: boolean
}

/** `file` relative to `cwd` when inside it, else absolute: what error messages print. */
export const displayPath = (file: string, cwd: string): string => {
  const rel = relative(cwd, file)
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel
}

const exists = async (file: string): Promise<boolean> => {
  try {
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}

/**
 * A file's settings without its top-level `x-*` keys: Compose's extension fields, where YAML
 * anchors are kept (`x-common: &common {...}`, then `<<: *common`); SAM reads nothing in them.
 */
const withoutExtensions = (value: unknown): unknown =>
  isRecord(value) ? Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith("x-"))) : value

const fileLayer = (name: string, file: string, parsed: ConfigFile, cwd: string): ConfigLayer => {
  const shown = displayPath(file, cwd)
  return {
    name,
    value: withoutExtensions(parsed.value),
    baseDir: dirname(file),
    file,
    locate: (path, atKey) => {
      const pos = parsed.locate(path, atKey)
      return pos === undefined ? { file: shown } : { file: shown, line: pos.line, column: pos.column }
    },
  }
}

const overrideLayer = (name: "env" | "cli", layer: OverrideLayer, cwd: string): ConfigLayer => ({
  name,
  value: layer.value,
  baseDir: cwd,
  locate: (path) => ({ file: overrideLabel(layer, path) ?? name }),
})

export interface ReadLayersOptions {
  readonly configPath: string
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cliOverrides: ReadonlyArray<string>
}

/**
 * The layer files that may sit beside the main config file (defaults.json, system.yaml,
 * local-overrides.yaml), present or not: hot reload watches them all, so one created while SAM
 * runs is read like an edit.
 */
export const layerFilesBeside = (configPath: string): ReadonlyArray<string> =>
  [DEFAULTS_FILE, SYSTEM_FILE, LOCAL_OVERRIDES_FILE]
    .map((name) => join(dirname(configPath), name))
    .filter((file) => file !== configPath)

/** Files in `dir` that look like a SAM config (`sam.yaml`, `sam.config.json`, ...), sorted. */
export const readLayers = async (options: ReadLayersOptions): Promise<ReadLayersResult> => {
  const { configPath, cwd } = options
  const dir = dirname(configPath)
  const issues: Array<ConfigIssue> = []
  const shownMain = displayPath(configPath, cwd)
  const ext = extname(configPath).toLowerCase()

  if (![...CODE_EXTENSIONS, ...DATA_EXTENSIONS].includes(ext)) {
    const message = `unsupported config file type "${ext}" (use .ts, .mjs, .js, .json, .yaml or .yml)`
    return { layers: [], files: [], issues: [{ file: shownMain, path: "", message }], fatal: true }
  }
  if (!(await exists(configPath))) {
    // Without --config: name the config files that are here, so `--config sam.yaml` is one step.
    const candidates = basename(configPath) === DEFAULT_CONFIG_FILE ? configFilesIn(dir) : []
    const message =
      basename(configPath) !== DEFAULT_CONFIG_FILE
        ? "config file not found"
        : candidates.length > 0
          ? `config file not found (${DEFAULT_CONFIG_FILE} is the default, else the one sam.* config file here; this folder has ${candidates.join(", ")}: pass --config ${candidates[0]})`
          : `config file not found (create ${DEFAULT_CONFIG_FILE} or pass --config <file>)`
    return { layers: [], files: [], issues: [{ file: shownMain, path: "", message }], fatal: true }
  }

  const layers: Array<ConfigLayer> = [
    { name: "defaults", value: {}, baseDir: dir, locate: () => ({ file: shownMain }) },
  ]
  const files: Array<string> = []
  let fatal = false
  const addFile = async (name: string, file: string) => {
    const parsed = await readConfigFile(file)
    files.push(file)
    const shown = displayPath(file, cwd)
    for (const p of parsed.problems) {
      issues.push({
        file: shown,
        path: "",
        ...(p.line === undefined ? {} : { line: p.line, column: p.column ?? 1 }),
        message: p.message,
      })
      fatal = true
    }
    if (parsed.problems.length === 0 && !isRecord(parsed.value)) {
      issues.push({
        file: shown,
        path: "",
        expected: "a mapping of settings",
        found: describeValue(parsed.value),
        message: "",
      })
      fatal = true
    }
    layers.push(fileLayer(name, file, parsed, cwd))
  }

  const beside = async (name: string) => {
    const file = join(dir, name)
    if (file !== configPath && (await exists(file))) await addFile(name, file)
  }
  await beside(DEFAULTS_FILE)
  await addFile(basename(configPath), configPath)
  await beside(SYSTEM_FILE)
  await beside(LOCAL_OVERRIDES_FILE)

  const env = envLayer(options.env)
  const cli = cliLayer(options.cliOverrides)
  for (const p of [...env.problems, ...cli.problems])
    issues.push({ file: p.label, path: "", message: p.message })
  layers.push(overrideLayer("env", env, cwd), overrideLayer("cli", cli, cwd))
  return { layers, files, issues, fatal }
}
