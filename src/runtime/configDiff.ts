// What a config edit means for the running units: which to add, remove, restart, reconfigure in
// place (only health checks, restart policy, stop, gateway or watch settings changed) or scale
// (only the instance count changed, besides those), and which to leave alone. Pure; configReload.ts applies the result to the supervisor.
import type { GroupSpec } from "./supervisor/supervisor.ts"
import { maxInstancesOf, type UnitSpec } from "./unitSpec.ts"

export interface UnitDiff {
  readonly added: ReadonlyArray<UnitSpec>
  readonly removed: ReadonlyArray<string>
  /** Changed in a way only a new process can honour: stopped, replaced, started again. */
  readonly restarted: ReadonlyArray<UnitSpec>
  /** Only fields a running instance can adopt changed (see `inPlaceFields`). */
  readonly reconfigured: ReadonlyArray<UnitSpec>
  /**
   * Only the instance count (scaling.min_instances, max_instances) changed, besides fields of
   * `inPlaceFields`: scaled as `sam scale` does, the other instances untouched.
   */
  readonly scaled: ReadonlyArray<UnitSpec>
  readonly unchanged: ReadonlyArray<string>
  /** Supervision groups whose settings changed, were added or were removed. */
  readonly groups: ReadonlyArray<string>
}

/**
 * UnitSpec fields Supervisor.reconfigure applies without a restart: running instances take the
 * new probes, restart and stop settings; the autoscaler and the gateway read theirs afresh; the
 * unit's file watcher is replaced.
 */
export const inPlaceFields: ReadonlyArray<keyof UnitSpec> = [
  "probes",
  "restart",
  "stop",
  "autoscale",
  "gateway",
  "watch",
  "cronRestart",
]

/** UnitSpec fields a scale applies: instances are added or drained and removed, the others stay. */
export const countFields: ReadonlyArray<keyof UnitSpec> = ["instances", "maxInstances"]

/**
 * Whether `before` → `after` is a scale: the count changed, nothing else but in-place fields, and
 * the instances keep their names (`web` for a unit that can only run one, else `web#0`, ...).
 */
const isScale = (before: UnitSpec, after: UnitSpec, changed: ReadonlyArray<keyof UnitSpec>): boolean =>
  changed.some((f) => countFields.includes(f)) &&
  changed.every((f) => countFields.includes(f) || inPlaceFields.includes(f)) &&
  maxInstancesOf(before) > 1 === maxInstancesOf(after) > 1

/** Structural equality for plain data; key order does not matter and undefined equals missing. */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)])
  for (const key of keys) if (!sameValue(ra[key], rb[key])) return false
  return true
}

/** The fields of `a` and `b` whose values differ. */
export const changedFields = (a: UnitSpec, b: UnitSpec): ReadonlyArray<keyof UnitSpec> => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof UnitSpec>)
  return [...keys].filter((k) => !sameValue(a[k], b[k]))
}

export const diffUnits = (
  before: ReadonlyArray<UnitSpec>,
  after: ReadonlyArray<UnitSpec>,
  groups: { readonly before: ReadonlyArray<GroupSpec>; readonly after: ReadonlyArray<GroupSpec> } = {
    before: [],
    after: [],
  },
): UnitDiff => {
  const old = new Map(before.map((u) => [u.id, u]))
  const next = new Map(after.map((u) => [u.id, u]))
  const added: UnitSpec[] = []
  const restarted: UnitSpec[] = []
  const reconfigured: UnitSpec[] = []
  const scaled: UnitSpec[] = []
  const unchanged: string[] = []
  for (const spec of after) {
    const previous = old.get(spec.id)
    if (!previous) {
      added.push(spec)
      continue
    }
    const changed = changedFields(previous, spec)
    if (changed.length === 0) unchanged.push(spec.id)
    else if (changed.every((f) => inPlaceFields.includes(f))) reconfigured.push(spec)
    else if (isScale(previous, spec, changed)) scaled.push(spec)
    else restarted.push(spec)
  }
  const removed = before.filter((u) => !next.has(u.id)).map((u) => u.id)
  const oldGroups = new Map(groups.before.map((g) => [g.name, g]))
  const newGroups = new Map(groups.after.map((g) => [g.name, g]))
  const groupNames = new Set([...oldGroups.keys(), ...newGroups.keys()])
  const changedGroups = [...groupNames].filter((n) => !sameValue(oldGroups.get(n), newGroups.get(n)))
  return { added, removed, restarted, reconfigured, scaled, unchanged, groups: changedGroups }
}

export const isEmptyDiff = (diff: UnitDiff): boolean =>
  diff.added.length +
    diff.removed.length +
    diff.restarted.length +
    diff.reconfigured.length +
    diff.scaled.length +
    diff.groups.length ===
  0
