// Node permission-model flags for each security profile (pure). `standard`: read the agent's
// own dir, SAM's agent SDK and the packages it loads, read/write only the data dir; `strict`:
// the same without writes; `trusted`: no flags. Child processes, workers, native addons, WASI
// and the inspector stay denied because their --allow-* flags are never given.
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export type SecurityProfile = "standard" | "strict" | "trusted"

export interface SandboxPaths {
  /** Directory of the agent module. */
  readonly agentDir: string
  /** Where a standard agent may write. */
  readonly dataDir: string
  /** SAM's in-agent SDK (src/agent) and the package roots it imports. */
  readonly runtimeReadPaths: ReadonlyArray<string>
  /** Node 26's permission model denies all network access unless --allow-net is given. */
  readonly network: boolean
}

export const permissionFlags = (profile: SecurityProfile, paths: SandboxPaths): string[] => {
  if (profile === "trusted") return []
  const reads = [paths.agentDir, ...paths.runtimeReadPaths, paths.dataDir]
  return [
    "--permission",
    ...unique(reads).map((path) => `--allow-fs-read=${path}`),
    ...(profile === "standard" ? [`--allow-fs-write=${paths.dataDir}`] : []),
    // `strict` never gets the network; `standard` only when the agent needs it.
    ...(profile === "standard" && paths.network ? ["--allow-net"] : []),
  ]
}

/** V8 heap limit: the hard backstop under SAM's RSS polling. */
export const memoryFlags = (maxMemoryMb: number | undefined): string[] =>
  maxMemoryMb === undefined ? [] : [`--max-old-space-size=${Math.max(16, Math.floor(maxMemoryMb))}`]

const unique = (paths: ReadonlyArray<string>): string[] => [...new Set(paths)]

/** src/agent, where childMain.ts and the SDK live. */
export const sdkDirectory = (): string => fileURLToPath(new URL("../../../agent", import.meta.url))

/** Root directory of an installed package (for `--allow-fs-read`), found from its entry point. */
export const packageRoot = (name: string): string | undefined => {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)))
    while (dir !== dirname(dir)) {
      if (dir.endsWith(join("node_modules", name))) return dir
      dir = dirname(dir)
    }
  } catch {
    // Not installed where SAM can see it.
  }
  return undefined
}

let runtimePaths: ReadonlyArray<string> | undefined

/** What an agent child must read to run SAM's side of the protocol: the SDK and `effect`. */
export const runtimeReadPaths = (): ReadonlyArray<string> => {
  runtimePaths ??= [sdkDirectory(), packageRoot("effect")].filter((p): p is string => p !== undefined)
  return runtimePaths
}
