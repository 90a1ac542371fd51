// Finds and imports an agent module: a file, or a directory with index.ts/index.js/index.mjs,
// whose default export (or `agent` export) is an agent definition. Used by every runtime.
import { statSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { type AgentDefinition, isAgentDefinition } from "./defineAgent.ts"

const indexNames = ["index.ts", "index.mts", "index.js", "index.mjs"]

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The file to import for `path`; throws with what was looked for. */
export const agentEntry = (path: string): string => {
  if (!isDirectory(path)) {
    if (isFile(path)) return path
    throw new Error(`agent path "${path}" does not exist (set the agent's path to its file or directory)`)
  }
  for (const name of indexNames) {
    const candidate = join(path, name)
    if (isFile(candidate)) return candidate
  }
  throw new Error(`agent directory "${path}" has no ${indexNames.join(", ")}`)
}

/** The directory the agent lives in (what a sandbox may read). */
export const agentDirectory = (path: string): string => (isDirectory(path) ? path : dirname(path))

/** Fresh imports so far: each one a new module URL. */
let reloads = 0

export const loadAgent = (path: string): Promise<AgentDefinition> => importAgent(agentEntry(path))

/**
 * Import the module file `entry` (as agentEntry found it) and take its agent definition.
 * `fresh`: import it anew, not from Node's module cache (an inline agent restarted because its
 * files changed); the modules it imports still come from the cache.
 */
export const importAgent = async (
  entry: string,
  options: { readonly fresh?: boolean } = {},
): Promise<AgentDefinition> => {
  const url = pathToFileURL(entry)
  if (options.fresh) url.search = `sam-reload=${++reloads}`
  const module = (await import(url.href)) as Record<string, unknown>
  const definition = module.default ?? module.agent
  if (!isAgentDefinition(definition)) {
    throw new Error(
      `agent module "${entry}" must export an agent definition (export default defineAgent({ capabilities: { ... } }))`,
    )
  }
  return definition
}
