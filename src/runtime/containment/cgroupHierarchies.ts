// Where SAM's cgroups go, computed from the text of /proc/self/mountinfo and /proc/self/cgroup:
// pure functions (unit-tested on sample text), used by detectContainment.ts to find the v2
// unified directory or the v1 pids + freezer directories SAM itself sits in.
import { posix } from "node:path"

export interface Mount {
  /** Path inside the filesystem that is mounted (a container may see a sub-hierarchy). */
  readonly root: string
  readonly mountPoint: string
  readonly fsType: string
  readonly superOptions: ReadonlyArray<string>
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeField = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))

/** Lines of /proc/<pid>/mountinfo: `id parent major:minor root mountpoint opts [optional…] - fstype source superopts`. */
export const parseMountinfo = (text: string): Mount[] => {
  const mounts: Mount[] = []
  for (const line of text.split("\n")) {
    const fields = line.split(" ")
    const separator = fields.indexOf("-", 6)
    const root = fields[3]
    const mountPoint = fields[4]
    const fsType = fields[separator + 1]
    if (separator < 0 || root === undefined || mountPoint === undefined || fsType === undefined) continue
    mounts.push({
      root: unescapeField(root),
      mountPoint: unescapeField(mountPoint),
      fsType,
      superOptions: (fields[separator + 3] ?? "").split(","),
    })
  }
  return mounts
}

export interface OwnCgroups {
  /** The `0::` line: SAM's path in the unified (v2) hierarchy. */
  readonly unified: string | undefined
  /** SAM's path per v1 controller (`pids`, `freezer`, `name=systemd`, …). */
  readonly v1: ReadonlyMap<string, string>
}

/** Lines of /proc/<pid>/cgroup: `hierarchy-id:controller,list:/path`. */
export const parseProcCgroup = (text: string): OwnCgroups => {
  let unified: string | undefined
  const v1 = new Map<string, string>()
  for (const line of text.split("\n")) {
    const first = line.indexOf(":")
    const second = line.indexOf(":", first + 1)
    if (first < 0 || second < 0) continue
    const id = line.slice(0, first)
    const controllers = line.slice(first + 1, second)
    const path = line.slice(second + 1)
    if (id === "0" && controllers === "") unified = path
    else for (const controller of controllers.split(",")) if (controller) v1.set(controller, path)
  }
  return { unified, v1 }
}

/** The directory of cgroup `path` under `mount`; undefined when the mount does not show it. */
export const cgroupDirectory = (mount: Mount, path: string): string | undefined => {
  const relative = posix.relative(mount.root, path)
  if (relative.startsWith("..") || posix.isAbsolute(relative)) return undefined
  return posix.join(mount.mountPoint, relative)
}

export interface CgroupPlan {
  /** SAM's own directory in the unified hierarchy, when one is mounted. */
  readonly unified?: {
    readonly dir: string
    /** The unified hierarchy is the host's only one (no v1 controllers mounted beside it). */
    readonly primary: boolean
  }
  /** SAM's own directories in the v1 pids and freezer hierarchies, when both are mounted. */
  readonly v1?: { readonly pids: string; readonly freezer: string }
}

const v1ControllerNames = new Set([
  "blkio",
  "cpu",
  "cpuacct",
  "cpuset",
  "devices",
  "freezer",
  "hugetlb",
  "memory",
  "misc",
  "net_cls",
  "net_prio",
  "perf_event",
  "pids",
  "rdma",
])

const v1Directory = (mounts: ReadonlyArray<Mount>, own: OwnCgroups, controller: string) => {
  const path = own.v1.get(controller)
  if (path === undefined) return undefined
  for (const mount of mounts) {
    if (mount.fsType !== "cgroup" || !mount.superOptions.includes(controller)) continue
    const dir = cgroupDirectory(mount, path)
    if (dir !== undefined) return dir
  }
  return undefined
}

/** Which hierarchies exist and where SAM's own groups are in them. Pure. */
export const planCgroups = (mountinfo: string, procCgroup: string): CgroupPlan => {
  const mounts = parseMountinfo(mountinfo)
  const own = parseProcCgroup(procCgroup)
  let unified: CgroupPlan["unified"] | undefined
  if (own.unified !== undefined) {
    for (const mount of mounts) {
      if (mount.fsType !== "cgroup2") continue
      const dir = cgroupDirectory(mount, own.unified)
      if (dir === undefined) continue
      // Named v1 hierarchies (name=systemd) hold no controllers and do not make the host hybrid.
      const v1Controllers = mounts.some(
        (m) => m.fsType === "cgroup" && m.superOptions.some((o) => v1ControllerNames.has(o)),
      )
      unified = { dir, primary: !v1Controllers }
      break
    }
  }
  const pids = v1Directory(mounts, own, "pids")
  const freezer = v1Directory(mounts, own, "freezer")
  return {
    ...(unified === undefined ? {} : { unified }),
    ...(pids === undefined || freezer === undefined ? {} : { v1: { pids, freezer } }),
  }
}
