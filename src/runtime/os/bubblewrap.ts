// Whether bubblewrap (`bwrap`, Debian package `bubblewrap`) can build a sandbox on this host, and
// what a sandboxed Node needs to see of it: the host facts behind the walls of the `sandbox`
// agent runtime (sandboxWalls.ts builds the command line, sandboxChoice.ts decides from these).
// Checked by running bwrap once with the namespaces the walls use; cached per bwrap and user.
import { spawnSync } from "node:child_process"
import { existsSync, realpathSync } from "node:fs"
import { isAbsolute } from "node:path"
import { findExecutable } from "../containment/index.ts"

/** A file a sandboxed Node needs, bound read-only at `target` (where the loader looks) from `source`. */
export interface RuntimeFile {
  readonly source: string
  readonly target: string
}

export interface BubblewrapHost {
  /** Absolute path of bwrap. */
  readonly path: string
  /** `bubblewrap 0.8.0`. */
  readonly version: string
  /** The Node binary and the shared libraries it links, as `ldd` resolves them. */
  readonly runtimeFiles: ReadonlyArray<RuntimeFile>
}

export type BubblewrapProbe =
  | { readonly ok: true; readonly host: BubblewrapHost }
  | { readonly ok: false; readonly reason: string }

export interface BubblewrapOptions {
  /** bwrap to use (a path); default: `bwrap` on PATH. */
  readonly bwrap?: string
  /** Run the check as this user (a root SAM whose agents run_as another one: bwrap then needs user namespaces). */
  readonly identity?: { readonly uid?: number; readonly gid?: number }
}

/** The namespaces every sandbox gets; the check uses the same, so a pass means the walls can stand. */
export const namespaceFlags = ["--unshare-pid", "--unshare-ipc", "--unshare-cgroup-try", "--die-with-parent"]

const cache = new Map<string, BubblewrapProbe>()

/** Check once per bwrap and user whether bubblewrap works here; the reason when it does not. */
export const detectBubblewrap = (options: BubblewrapOptions = {}): BubblewrapProbe => {
  const key = JSON.stringify([options.bwrap ?? null, options.identity ?? null, process.env.PATH ?? ""])
  const known = cache.get(key)
  if (known) return known
  const probe = check(options)
  cache.set(key, probe)
  return probe
}

const check = (options: BubblewrapOptions): BubblewrapProbe => {
  if (process.platform !== "linux")
    return { ok: false, reason: `bubblewrap needs Linux namespaces (this is ${process.platform})` }
  const bwrap = options.bwrap
    ? isAbsolute(options.bwrap) && existsSync(options.bwrap)
      ? options.bwrap
      : undefined
    : findExecutable("bwrap", process.env.PATH ?? "", "/")
  if (bwrap === undefined)
    return {
      ok: false,
      reason: `${options.bwrap ?? "bwrap"} is not installed (or not on PATH): install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)`,
    }
  const version = spawnSync(bwrap, ["--version"], { encoding: "utf8", timeout: 5_000 })
  const probeArgs = [
    ...namespaceFlags,
    "--unshare-net",
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "/bin/sh",
    "-c",
    ":",
  ]
  const identity = options.identity
  const asUser =
    identity && (identity.uid !== undefined || identity.gid !== undefined) && process.getuid?.() === 0
      ? setprivPrefix(identity)
      : undefined
  const run =
    asUser === undefined
      ? spawnSync(bwrap, probeArgs, { encoding: "utf8", timeout: 5_000 })
      : spawnSync(asUser[0] as string, [...asUser.slice(1), bwrap, ...probeArgs], {
          encoding: "utf8",
          timeout: 5_000,
        })
  if (run.error) return { ok: false, reason: `${bwrap} could not be run: ${run.error.message}` }
  if (run.status !== 0) return { ok: false, reason: explain(bwrap, run.stderr) }
  return {
    ok: true,
    host: {
      path: bwrap,
      version: version.stdout?.trim() || "bubblewrap (version unknown)",
      runtimeFiles: nodeRuntimeFiles(),
    },
  }
}

const setprivPrefix = (identity: { uid?: number; gid?: number }): string[] | undefined => {
  const setpriv = findExecutable("setpriv", process.env.PATH ?? "", "/")
  if (setpriv === undefined) return undefined
  return [
    setpriv,
    ...(identity.gid === undefined ? [] : ["--regid", String(identity.gid)]),
    ...(identity.uid === undefined ? [] : ["--reuid", String(identity.uid)]),
    "--clear-groups",
    "--",
  ]
}

/** bwrap's own words, with what they mean on the hosts where they are seen. */
const explain = (bwrap: string, stderr: string | undefined): string => {
  const said =
    (stderr ?? "")
      .trim()
      .split("\n")
      .find((line) => line.trim() !== "") ?? "no message"
  if (/uid map|setting up uid|Permission denied/i.test(said))
    return (
      `${bwrap} cannot create its namespaces ("${said}"): unprivileged user namespaces are blocked, ` +
      "as by Ubuntu 24.04's AppArmor (kernel.apparmor_restrict_unprivileged_userns=1); give bwrap an " +
      "AppArmor profile that allows them, or run SAM as root"
    )
  if (/No permissions to creat(e|ing) new namespace|Operation not permitted|Invalid argument/i.test(said))
    return (
      `${bwrap} cannot create its namespaces ("${said}"): user namespaces are disabled here ` +
      "(user.max_user_namespaces=0, kernel.unprivileged_userns_clone=0, or a container without them)"
    )
  return `${bwrap} failed its check: ${said}`
}

let runtimeFilesCache: ReadonlyArray<RuntimeFile> | undefined

/**
 * The Node binary (at its own path and its real one) and every library `ldd` lists for it, bound
 * where the dynamic loader looks; with no usable ldd, the usual library directories whole.
 */
export const nodeRuntimeFiles = (): ReadonlyArray<RuntimeFile> => {
  if (runtimeFilesCache) return runtimeFilesCache
  const node = process.execPath
  const real = realPath(node)
  const files: RuntimeFile[] = [{ source: real, target: node }]
  if (real !== node) files.push({ source: real, target: real })
  const ldd = findExecutable("ldd", process.env.PATH ?? "", "/")
  const listed = ldd === undefined ? undefined : spawnSync(ldd, [real], { encoding: "utf8", timeout: 5_000 })
  const libraries =
    listed && listed.status === 0
      ? listed.stdout
          .split("\n")
          .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line.trim())?.[1])
          .filter((path): path is string => path !== undefined)
      : undefined
  if (libraries && libraries.length > 0)
    for (const library of libraries) files.push({ source: realPath(library), target: library })
  else
    for (const dir of ["/lib", "/lib64", "/usr/lib", "/usr/lib64"])
      if (existsSync(dir)) files.push({ source: realPath(dir), target: dir })
  runtimeFilesCache = files
  return files
}

const realPath = (path: string): string => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}
