// Where SAM's agent SDK is on disk, whether SAM runs from its TypeScript sources (src/, this
// repo) or compiled (dist/, an installed package): the entry scripts the child and worker
// drivers start, and what a sandboxed child must read (sandboxFlags.ts turns it into flags).
import { existsSync, realpathSync } from "node:fs"
import * as nodeModule from "node:module"
import { dirname, join, sep } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/** ".ts" when SAM runs from src/, ".js" from dist/: the entry scripts are compiled like this module. */
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js"

/** src/agent or dist/agent: where childMain, workerMain and the SDK of this SAM live. */
export const sdkDirectory: string = fileURLToPath(new URL("../../../agent", import.meta.url))

/** The script a child (`childMain`) or worker (`workerMain`) agent runs, for this build of SAM. */
export const agentEntryScript = (name: "childMain" | "workerMain"): string =>
  join(sdkDirectory, `${name}${extension}`)

/** The package.json of `specifier` resolved from `base` (a bare name), or the nearest one above it. */
const packageJsonOf = (specifier: string | URL, base?: URL): string | undefined => {
  try {
    return nodeModule.findPackageJSON(specifier, base)
  } catch {
    // Not resolvable from there (a sandboxed agent that does not import SAM, say).
    return undefined
  }
}

/**
 * What an agent needs of one SAM package. An installed one (under node_modules) holds nothing but
 * SAM's code: readable whole, its link path included when the install is symlinked. A checkout
 * also holds state dirs and vaults: only its package.json (module resolution reads it) and SDK.
 */
const samPackagePaths = (packageJson: string): string[] => {
  const root = dirname(packageJson)
  if (root.split(sep).includes("node_modules")) return [root]
  return [
    packageJson,
    ...[join(root, "src", "agent"), join(root, "dist", "agent")].filter((p) => existsSync(p)),
  ]
}

let ownPaths: ReadonlyArray<string> | undefined

/** This SAM's SDK (childMain runs it) and the `effect` it imports, resolved from the SDK itself. */
const ownReadPaths = (): ReadonlyArray<string> => {
  if (ownPaths) return ownPaths
  const samPackageJson = packageJsonOf(import.meta.url)
  const effectPackageJson = packageJsonOf("effect", pathToFileURL(agentEntryScript("childMain")))
  ownPaths = [
    sdkDirectory,
    ...(samPackageJson ? samPackagePaths(samPackageJson) : []),
    ...(effectPackageJson ? [dirname(effectPackageJson)] : []),
  ]
  return ownPaths
}

/**
 * Everything outside its own directory a sandboxed child reads to start the agent at `agentEntry`:
 * this SAM's SDK and `effect`; the SAM package the agent's `import "sam/agent"` resolves to (its
 * package.json is read by resolution, and it may be another copy than this SAM); and the
 * package.json that decides the agent file's module type. Real paths are added for symlinks.
 */
export const sdkReadPaths = (agentEntry: string): ReadonlyArray<string> => {
  const agentUrl = pathToFileURL(agentEntry)
  const agentsSam = packageJsonOf("sam", agentUrl)
  const scope = packageJsonOf(agentUrl)
  const paths = [
    ...ownReadPaths(),
    ...(agentsSam ? samPackagePaths(agentsSam) : []),
    ...(scope ? [scope] : []),
  ]
  return [...new Set(paths.flatMap((path) => [path, realPath(path)]))]
}

const realPath = (path: string): string => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}
