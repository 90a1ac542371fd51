// What the supervisor remembers across SAM restarts, kept in the runtime store: each instance's
// port, its restart windows, and the operator's desired state per unit. The desired-state rule
// (desiredState.ts) is applied here: a record made for another version of a unit's config is
// stale and cleared when read, so a config change gives the config its say again.
import { createHash } from "node:crypto"
import type { SupervisorMemory } from "../supervisor/supervisor.ts"
import type { UnitSpec } from "../unitSpec.ts"
import type { RuntimeStore } from "./runtimeStore.ts"
import type { DesiredState } from "./storeTypes.ts"

/** Canonical JSON (sorted keys) of plain data. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`
  return JSON.stringify(value) ?? "null"
}

/** A short, stable hash of what a unit's config says (key order does not matter). */
export const specHash = (spec: UnitSpec): string =>
  createHash("sha256").update(canonical(spec)).digest("hex").slice(0, 16)

/** Specs are immutable values (a reconfigure swaps in a new one): hash each once. */
const hashes = new WeakMap<UnitSpec, string>()
const hashOf = (spec: UnitSpec): string => {
  const known = hashes.get(spec)
  if (known !== undefined) return known
  const hash = specHash(spec)
  hashes.set(spec, hash)
  return hash
}

/**
 * The desired state is read on every status view: it is kept in memory once read, written
 * through (SAM is the store's one writer, under the state-dir lock), so reads never touch SQLite
 * and still answer while SAM closes its store.
 */
export const storeMemory = (store: RuntimeStore): SupervisorMemory => {
  const desired = new Map<string, DesiredState | undefined>()
  const readDesired = (unit: string) => {
    if (!desired.has(unit)) desired.set(unit, store.desiredState.get(unit))
    return desired.get(unit)
  }
  const setDesired = (unit: string, record: DesiredState | undefined) => {
    desired.set(unit, record)
    if (record === undefined) store.desiredState.clear(unit)
    else store.desiredState.set(record)
  }
  return {
    portOf: (unit, instance) => store.ports.get(unit, instance),
    setPort: (unit, instance, port) => store.ports.set(unit, instance, port),
    clearPorts: (unit) => void store.ports.clear(unit),
    keptPorts: () => store.ports.list().map((p) => p.port),
    windowOf: (key) => {
      const record = store.restartWindows.get(key)
      return record && { stamps: record.stamps, consecutiveFailures: record.consecutiveFailures }
    },
    setWindow: (key, window) =>
      store.restartWindows.set({
        key,
        stamps: window.stamps,
        consecutiveFailures: window.consecutiveFailures,
        restarts: store.restartWindows.get(key)?.restarts ?? 0,
      }),
    desiredOf: (spec) => {
      const record = readDesired(spec.id)
      if (record === undefined) return undefined
      if (record.configHash === hashOf(spec)) return record
      setDesired(spec.id, undefined)
      return undefined
    },
    setDesired: (spec, state, by) =>
      setDesired(spec.id, {
        unit: spec.id,
        state,
        by,
        at: new Date().toISOString(),
        configHash: hashOf(spec),
      }),
    scaledOf: (spec) => {
      const record = store.scaledInstances.get(spec.id)
      if (record === undefined) return undefined
      if (record.configHash === hashOf(spec))
        return { instances: record.instances, by: record.by, at: record.at }
      store.scaledInstances.clear(spec.id)
      return undefined
    },
    setScaled: (spec, instances, by) => {
      if (instances === undefined) store.scaledInstances.clear(spec.id)
      else
        store.scaledInstances.set({
          unit: spec.id,
          instances,
          by,
          at: new Date().toISOString(),
          configHash: hashOf(spec),
        })
    },
    forget: (unit) =>
      store.transaction(() => {
        store.ports.clear(unit)
        store.scaledInstances.clear(unit)
        setDesired(unit, undefined)
      }),
  }
}
