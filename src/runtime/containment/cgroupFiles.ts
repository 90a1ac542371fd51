// Reading and writing cgroup control files, for both hierarchies: the pids of a subtree, a
// subtree's creation and removal (leaves first). cgroupV1.ts and cgroupV2.ts build on these;
// killing.ts has the signals and the short synchronous waits.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ContainmentError } from "./types.ts"

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code

/** The sub-cgroups of `dir`, deepest first, then `dir` itself; [] when it does not exist. */
export const cgroupTree = (dir: string): string[] => {
  let entries: string[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
  } catch {
    return []
  }
  return [...entries.flatMap((name) => cgroupTree(join(dir, name))), dir]
}

/** Every pid listed in cgroup.procs of `dir` and of its sub-cgroups (zombies are not listed). */
export const cgroupPids = (dir: string): number[] => {
  const pids: number[] = []
  for (const group of cgroupTree(dir)) {
    let text: string
    try {
      text = readFileSync(join(group, "cgroup.procs"), "utf8")
    } catch {
      continue // removed meanwhile
    }
    for (const line of text.split("\n")) if (line !== "") pids.push(Number(line))
  }
  return pids
}

export const readControl = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8").trim()
  } catch {
    return undefined
  }
}

/** Write a control file; false when it is not there (the cgroup is gone, an older kernel). */
export const writeControl = (file: string, value: string): boolean => {
  try {
    writeFileSync(file, value)
    return true
  } catch {
    return false
  }
}

/** Remove `dir` and its sub-cgroups; true when none is left. A populated cgroup stays (EBUSY). */
export const removeCgroupTree = (dir: string): boolean => {
  for (const group of cgroupTree(dir)) {
    try {
      rmdirSync(group)
    } catch (error) {
      if (errorCode(error) !== "ENOENT") return false
    }
  }
  return true
}

/** mkdir of one cgroup; an existing one is an error (it would be another SAM's). */
export const createCgroup = (dir: string): void => {
  try {
    mkdirSync(dir)
  } catch (error) {
    throw new ContainmentError({
      message: `cannot create cgroup ${dir} (${errorCode(error) ?? String(error)})`,
    })
  }
}
