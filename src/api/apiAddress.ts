// Where a running SAM's control API can be reached. The daemon writes <state_dir>/api.json when it
// listens (the real port, even for api.port 0) and removes it on stop; the CLI reads it, falling
// back to api.host:api.port from the config. SAM_URL overrides both.
import { readFileSync } from "node:fs"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"

export interface ApiState {
  /** A URL clients can connect to (a wildcard bind is reached through loopback). */
  readonly url: string
  readonly pid: number
  readonly startedAt: string
  /** The main config file that SAM runs (the CLI finds it by this without loading the config). */
  readonly config?: string
}

export const apiStateFile = (stateDir: string): string => join(stateDir, "api.json")

/** The URL to connect to for a server bound to `host:port`. */
export const connectUrl = (host: string, port: number): string => {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host
  return `http://${target.includes(":") && !target.startsWith("[") ? `[${target}]` : target}:${port}`
}

export const writeApiState = (stateDir: string, state: ApiState): Promise<void> =>
  writeFile(apiStateFile(stateDir), `${JSON.stringify(state)}\n`, { mode: 0o600 })

export const removeApiState = (stateDir: string): Promise<void> => rm(apiStateFile(stateDir), { force: true })

/**
 * Whether process `pid` runs (EPERM: it does, under another user). A zombie does not: it has
 * exited and waits only for its parent to reap it, which for a detached SAM is the machine's init
 * (`sam shutdown` waited up to a second for a slow one). Loads nothing but node:.
 */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
  return !exitedUnreaped(pid)
}

/**
 * A zombie (Z) or dead (X) task, from the state field of /proc/<pid>/stat (false where there is
 * no /proc). Read here rather than through runtime/os/proc.ts: the CLI's client loads nothing of
 * SAM's runtime (test/cli/clientCommands.test.ts).
 */
const exitedUnreaped = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat[stat.lastIndexOf(")") + 2]
    return state === "Z" || state === "X"
  } catch {
    return false
  }
}

/**
 * What `stateDir`'s api.json records, and whether its SAM still runs (a SAM that was killed, or
 * died, leaves it behind); undefined when there is none or it is unreadable.
 */
export const readRecordedApiState = (
  stateDir: string,
): { readonly state: ApiState; readonly alive: boolean } | undefined => {
  try {
    const state = JSON.parse(readFileSync(apiStateFile(stateDir), "utf8")) as Partial<ApiState>
    if (typeof state.url !== "string" || typeof state.pid !== "number") return undefined
    return { state: state as ApiState, alive: alive(state.pid) }
  } catch {
    return undefined
  }
}

/** The state a live SAM wrote in `stateDir`, or undefined (none, unreadable, or its SAM is gone). */
export const readApiState = (stateDir: string): ApiState | undefined => {
  const recorded = readRecordedApiState(stateDir)
  return recorded?.alive ? recorded.state : undefined
}
