// Node permission-model flags for each security profile (pure). `standard`: read the agent's
// own dir, SAM's agent SDK and the packages it loads (agentSdk.ts finds them), read/write only
// the data dir; `strict`: the same without writes; `trusted`: no flags. Child processes,
// workers, native addons, WASI and the inspector stay denied: their --allow-* flags are never given.

export type SecurityProfile = "standard" | "strict" | "trusted"

export interface SandboxPaths {
  /** Directory of the agent module. */
  readonly agentDir: string
  /** Where a standard agent may write. */
  readonly dataDir: string
  /** SAM's agent SDK, the packages it imports and the package.json files resolution reads. */
  readonly sdkReadPaths: ReadonlyArray<string>
  /** Node 26's permission model denies all network access unless --allow-net is given. */
  readonly network: boolean
}

export const permissionFlags = (profile: SecurityProfile, paths: SandboxPaths): string[] => {
  if (profile === "trusted") return []
  const reads = [paths.agentDir, ...paths.sdkReadPaths, paths.dataDir]
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

/** Each path once, and none inside another one granted (the flags stay readable in `ps`). */
const unique = (paths: ReadonlyArray<string>): string[] => {
  const distinct = [...new Set(paths.map((path) => (path.length > 1 ? path.replace(/\/+$/, "") : path)))]
  return distinct.filter((path) => !distinct.some((other) => other !== path && path.startsWith(`${other}/`)))
}
