// Chooses how SAM contains its children, once at start: cgroup v2 when the unified hierarchy is
// the host's (and SAM may create a subtree), else cgroup v1 pids + freezer (root), else the
// unified hierarchy of a hybrid host, else process groups + environment markers.
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { planCgroups } from "./cgroupHierarchies.ts"
import { cgroupV1 } from "./cgroupV1.ts"
import { cgroupV2 } from "./cgroupV2.ts"
import { makeContainment } from "./containment.ts"
import type { ModeBackend } from "./modeBackend.ts"
import { processGroupMode } from "./processGroupMode.ts"
import { type Containment, ContainmentError, type ContainmentMode, ContainmentUnavailable } from "./types.ts"
import { findSetpriv } from "./wrapper.ts"

export interface DetectOptions {
  /** Use this mode or fail with ContainmentUnavailable (config, tests); default: the best available. */
  readonly force?: ContainmentMode
  /** Default: 12 random hex digits. Letters, digits, '-' and '_' only (it names cgroups). */
  readonly samId?: string
  /** A delegated cgroup v2 directory to create SAM's subtree in; default SAM_CGROUP_DIR, else SAM's own cgroup. */
  readonly cgroupV2Dir?: string
  /** false: do not use setpriv even when present (tests of hosts without it). */
  readonly parentDeathSignal?: boolean
}

const readText = (file: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Detect the best containment (or the forced one) and create SAM's cgroup directories for it. */
export const detectContainment = (options: DetectOptions = {}): Containment => {
  const samId = options.samId ?? randomBytes(6).toString("hex")
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(samId)) {
    throw new ContainmentError({ message: `SAM id "${samId}" must be 1-64 letters, digits, '-' or '_'` })
  }
  const setpriv = options.parentDeathSignal === false ? undefined : findSetpriv()
  const linux = process.platform === "linux"
  const plan = linux ? planCgroups(readText("/proc/self/mountinfo"), readText("/proc/self/cgroup")) : {}
  const v2Dir = options.cgroupV2Dir ?? process.env.SAM_CGROUP_DIR ?? plan.unified?.dir
  const v2Primary =
    options.cgroupV2Dir !== undefined ||
    process.env.SAM_CGROUP_DIR !== undefined ||
    plan.unified?.primary === true

  const failures: string[] = linux ? [] : [`cgroups: ${process.platform} is not Linux`]
  const attempts: Record<ContainmentMode, () => ModeBackend> = {
    "cgroup-v2": () => {
      if (v2Dir === undefined) throw new Error("no cgroup2 hierarchy is mounted")
      return cgroupV2(v2Dir, samId, !v2Primary)
    },
    "cgroup-v1": () => {
      if (plan.v1 === undefined) throw new Error("no cgroup v1 pids and freezer hierarchies are mounted")
      return cgroupV1(plan.v1, samId)
    },
    "process-group": () =>
      processGroupMode(
        samId,
        options.force === "process-group" ? "forced by option" : `no usable cgroup: ${failures.join("; ")}`,
      ),
  }
  const order: ReadonlyArray<ContainmentMode> = options.force
    ? [options.force]
    : v2Primary
      ? ["cgroup-v2", "cgroup-v1", "process-group"]
      : ["cgroup-v1", "cgroup-v2", "process-group"]
  for (const mode of linux ? order : order.filter((m) => m === "process-group")) {
    try {
      const backend = attempts[mode]()
      const death = setpriv
        ? `parent-death signal via ${setpriv}`
        : "no parent-death signal (no usable setpriv): the reaper covers SAM's death"
      return makeContainment(backend, samId, setpriv, {
        mode,
        detail: `${backend.description}; ${death}`,
        parentDeathSignal: setpriv !== undefined,
      })
    } catch (error) {
      failures.push(`${mode}: ${reason(error)}`)
    }
  }
  // Only a forced mode can get here: process-group mode cannot fail.
  const mode = options.force ?? "process-group"
  throw new ContainmentUnavailable({
    mode,
    message: `containment mode ${mode} is not available here: ${failures.join("; ")} (cgroups need root, or a delegated cgroup v2 directory in SAM_CGROUP_DIR)`,
  })
}
