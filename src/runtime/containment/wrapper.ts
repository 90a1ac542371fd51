// The argv that runs a unit's command inside its cell. Same pid throughout; fds and environment
// pass through. Usually setpriv sets the parent-death signal and execs a POSIX sh, which joins the
// cgroup(s) with its own pid, checks SAM is still its parent and execs the command: two execs
// before the command's own. With a change of user the sh joins first (it could not write to
// cgroup.procs after) and execs setpriv, which sets the signal after changing user (the change
// would clear it), then the check's sh: three.
import { spawnSync } from "node:child_process"
import { accessSync, constants, statSync } from "node:fs"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import type { WrappedCommand } from "./types.ts"

export interface WrapPlan {
  /** cgroup.procs files the process writes its pid to before anything else. */
  readonly joinFiles: ReadonlyArray<string>
  /** Absolute path of a setpriv that supports --pdeathsig; undefined when there is none. */
  readonly setpriv: string | undefined
  /** Named in the error when joining fails. */
  readonly cellId: string
  /** SAM's pid: the process checks, once its parent-death signal is set, that SAM is still there. */
  readonly parentPid?: number
}

export interface Identity {
  readonly uid?: number
  readonly gid?: number
}

/** POSIX single quoting where needed: the text stays literal whatever it contains. */
export const shellQuote = (text: string): string =>
  /^[A-Za-z0-9_/.,:=+@%-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`

/**
 * Run after setpriv set the parent-death signal: a parent that died before that (SAM killed
 * between the fork and the prctl) sends none, so the process checks that its parent is still SAM
 * ($0) and ends if not (prctl(2)'s advice). `read` is a shell builtin: no process more.
 */
const parentCheck =
  'read -r _ _ _ ppid _ </proc/$$/stat; [ "$ppid" = "$0" ] || { echo \'sam: SAM is gone: not starting\' >&2; exit 125; }; exec "$@"'

const setprivArgs = (setpriv: string, identity: Identity, parentPid: number | undefined): string[] => {
  const ids: string[] = []
  if (identity.gid !== undefined) ids.push("--regid", String(identity.gid))
  if (identity.uid !== undefined) ids.push("--reuid", String(identity.uid))
  // libuv drops supplementary groups when it changes the user; so does this.
  if (ids.length > 0) ids.push("--clear-groups")
  const check = parentPid === undefined ? [] : ["/bin/sh", "-c", parentCheck, String(parentPid)]
  return [setpriv, "--pdeathsig", "KILL", ...ids, "--", ...check]
}

/** Pure: the command SAM spawns for `command args` under `plan`. */
export const wrapCommand = (
  plan: WrapPlan,
  command: string,
  args: ReadonlyArray<string>,
  identity: Identity = {},
): WrappedCommand => {
  const changesUser = identity.uid !== undefined || identity.gid !== undefined
  // Without setpriv the wrapper cannot change user; spawn must, and then the shell could not
  // write to cgroup.procs any more, so the cell's adopt() moves the leader in from outside.
  if (plan.setpriv === undefined && (plan.joinFiles.length === 0 || changesUser)) {
    return { command, args: [...args], ...identity }
  }
  const join = plan.joinFiles.map((file) => `echo $$ >${shellQuote(file)}`).join(" && ")
  const failed = shellQuote(`sam: cannot join containment cell ${plan.cellId} (its cgroup is gone?)`)
  const joinOrFail = `{ ${join}; } 2>/dev/null || { echo ${failed} >&2; exit 125; }`
  if (plan.setpriv !== undefined && plan.joinFiles.length > 0 && !changesUser) {
    // One shell both joins and checks; setpriv runs outside the cell for the moment it takes, but
    // starts nothing meanwhile, so nothing can escape it.
    const check = plan.parentPid === undefined ? 'exec "$@"' : parentCheck
    return {
      command: plan.setpriv,
      args: [
        "--pdeathsig",
        "KILL",
        "--",
        "/bin/sh",
        "-c",
        `${joinOrFail}; ${check}`,
        plan.parentPid === undefined ? "sam-cell" : String(plan.parentPid),
        command,
        ...args,
      ],
    }
  }
  const exec = plan.setpriv === undefined ? [] : setprivArgs(plan.setpriv, identity, plan.parentPid)
  if (plan.joinFiles.length === 0) {
    const [setpriv, ...rest] = exec as [string, ...string[]]
    return { command: setpriv, args: [...rest, command, ...args] }
  }
  const script = `${joinOrFail}; exec ${exec.map(shellQuote).join(" ")} "$@"`
  return { command: "/bin/sh", args: ["-c", script, "sam-cell", command, ...args] }
}

/**
 * The first setpriv on PATH that can set a parent-death signal (util-linux ≥ 2.33), checked by
 * running it once; undefined off Linux or when it is missing or refused (seccomp, old version).
 */
export const findSetpriv = (path = process.env.PATH ?? ""): string | undefined => {
  if (process.platform !== "linux") return undefined
  const candidate = findExecutable("setpriv", path, "/")
  if (candidate === undefined) return undefined
  const probe = spawnSync(candidate, ["--pdeathsig", "KILL", "--", "/bin/sh", "-c", ":"], {
    stdio: "ignore",
    timeout: 5_000,
  })
  return probe.status === 0 ? candidate : undefined
}

/**
 * Where `command` resolves the way execvp would find it (a path with a slash is taken relative to
 * `cwd`); undefined when there is no such executable. A wrapped spawn always finds /bin/sh, so the
 * driver checks the real command with this to keep its "command not found" error.
 */
export const findExecutable = (command: string, path: string, cwd: string): string | undefined => {
  const candidates = command.includes("/")
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : path
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => resolve(cwd, join(dir, command)))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // Not here.
    }
  }
  return undefined
}
