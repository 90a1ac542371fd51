// GET /api/capabilities' answer, from what the Sam facade tells: the router's providers (offering
// now), the agents' declared capabilities (unitSpecs) and every instance's state (status).
import type { Sam } from "../runtime/sam.ts"
import type { CapabilityList } from "./schemas.ts"

type Provider = CapabilityList["capabilities"][number]["providers"][number]

/**
 * The router names an instance the way the supervisor keys it: the unit id, or `<id>#<n>` for a
 * unit with several instances. Plugins register as `plugin:<name>`.
 */
const instanceKeys = (sam: Sam): Map<string, { unit: string; instance: number; state: string }> => {
  const keys = new Map<string, { unit: string; instance: number; state: string }>()
  for (const unit of sam.status().units)
    for (const i of unit.instances)
      keys.set(unit.instances.length > 1 ? `${unit.id}#${i.instance}` : unit.id, {
        unit: unit.id,
        instance: i.instance,
        state: i.state,
      })
  return keys
}

export const capabilityList = (sam: Sam): CapabilityList => {
  const keys = instanceKeys(sam)
  const byName = new Map<string, Provider[]>()
  const providersOf = (name: string) => {
    const list = byName.get(name) ?? []
    byName.set(name, list)
    return list
  }
  for (const { capability, providers } of sam.capabilities.list())
    for (const p of providers) {
      const known = keys.get(p.id)
      providersOf(capability).push({
        unit: known?.unit ?? p.id,
        instance: known?.instance ?? 0,
        state: known?.state ?? "running",
        ready: p.available,
        in_flight: p.inFlight,
      })
    }
  // Declared by a configured agent but not offered now (stopped, starting, crashed ...).
  for (const spec of sam.unitSpecs()) {
    if (spec.kind !== "agent") continue
    for (const name of spec.agent?.capabilities ?? []) {
      const list = providersOf(name)
      for (const [, key] of keys) {
        if (key.unit !== spec.id) continue
        if (list.some((p) => p.unit === key.unit && p.instance === key.instance)) continue
        list.push({ unit: key.unit, instance: key.instance, state: key.state, ready: false, in_flight: 0 })
      }
    }
  }
  const capabilities = [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, providers]) => ({
      name,
      description: sam.capabilities.description(name) ?? null,
      providers: providers.sort((a, b) =>
        a.unit === b.unit ? a.instance - b.instance : a.unit < b.unit ? -1 : 1,
      ),
      available: providers.some((p) => p.ready),
    }))
  return { capabilities }
}
