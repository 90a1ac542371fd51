// Which config file a command uses when none is named: sam.config.ts, else the one other SAM
// config file in the folder (sam.yaml, sam.json, sam.config.mjs, ...), as Compose finds its
// compose.yaml. Several and no sam.config.ts: none is guessed (the "not found" error lists them).
import { readdirSync } from "node:fs"
import { DEFAULT_CONFIG_FILE } from "./constants.ts"

/** sam.yaml, sam.yml, sam.json, sam.config.{ts,mts,mjs,js,json,yaml,yml}. */
export const CONFIG_FILE_NAME = /^sam(\.config)?\.(ts|mts|mjs|js|json|ya?ml)$/

/** The SAM config files in `dir`, sorted. */
export const configFilesIn = (dir: string): Array<string> => {
  try {
    return readdirSync(dir)
      .filter((name) => CONFIG_FILE_NAME.test(name))
      .sort()
  } catch {
    return []
  }
}

/** The file name to use in `dir` without --config. */
export const defaultConfigFile = (dir: string): string => {
  const found = configFilesIn(dir)
  if (found.includes(DEFAULT_CONFIG_FILE)) return DEFAULT_CONFIG_FILE
  return found.length === 1 ? (found[0] as string) : DEFAULT_CONFIG_FILE
}
