// The unit series: readiness, state, memory and CPU of every instance, read from the facade's
// statuses at each scrape, and restarts and crashes counted as they happen (unitIncidents.ts).
// Labels: unit, kind, instance (the instance number), plus state / reason / failure.
import { Counter, Gauge, type Registry } from "prom-client"
import { lifecycleStates } from "../actors/lifecycleTypes.ts"
import type { UnitStatus } from "../runtime/sam.ts"
import type { UnitIncidents } from "./unitIncidents.ts"

/** The statuses a scrape reads, taken once at its start (every series sees the same moment). */
export interface StatusSnapshot {
  units(): ReadonlyArray<UnitStatus>
  /** The kind of a unit by id (agent or service), for series fed by events. */
  kindOf(unit: string): string
}

/** States in which an instance has a live process tree whose sample means something now. */
const live = new Set(["running", "suspended", "starting", "stopping"])

const instanceLabels = ["unit", "kind", "instance"] as const

export const registerUnitSeries = (
  registry: Registry,
  snapshot: StatusSnapshot,
  incidents: UnitIncidents,
): (() => void) => {
  const registers = [registry]
  new Gauge({
    name: "sam_unit_ready",
    help: "1 when the instance is running and its readiness checks pass, else 0.",
    labelNames: instanceLabels,
    registers,
    collect() {
      this.reset()
      for (const unit of snapshot.units())
        for (const i of unit.instances)
          this.set({ unit: unit.id, kind: unit.kind, instance: String(i.instance) }, i.ready ? 1 : 0)
    },
  })
  new Gauge({
    name: "sam_unit_state",
    help: "The instance's lifecycle state: one series per state, 1 for the current one.",
    labelNames: [...instanceLabels, "state"],
    registers,
    collect() {
      this.reset()
      for (const unit of snapshot.units())
        for (const i of unit.instances)
          for (const state of lifecycleStates)
            this.set(
              { unit: unit.id, kind: unit.kind, instance: String(i.instance), state },
              i.state === state ? 1 : 0,
            )
    },
  })
  new Gauge({
    name: "sam_unit_resident_memory_bytes",
    help: "Resident memory of the instance's whole process tree at its last sample (live instances).",
    labelNames: instanceLabels,
    registers,
    collect() {
      this.reset()
      for (const unit of snapshot.units())
        for (const i of unit.instances)
          if (i.lastUsage && live.has(i.state))
            this.set({ unit: unit.id, kind: unit.kind, instance: String(i.instance) }, i.lastUsage.rssBytes)
    },
  })
  new Counter({
    name: "sam_unit_cpu_seconds_total",
    help: "CPU time of the current incarnation's whole process tree (user + system); resets when it restarts.",
    labelNames: instanceLabels,
    registers,
    collect() {
      this.reset()
      for (const unit of snapshot.units())
        for (const i of unit.instances)
          if (i.lastUsage && live.has(i.state))
            this.inc({ unit: unit.id, kind: unit.kind, instance: String(i.instance) }, i.lastUsage.cpuSeconds)
    },
  })
  // Every unit's common series exist from the first scrape at 0: a counter that appears at 1 on
  // its first event has no increase() to alert on (Prometheus' "initialize your counters").
  const zeroed = (counter: Counter<string>, label: string, values: ReadonlyArray<string>) => {
    for (const unit of snapshot.units())
      for (const value of values) counter.inc({ unit: unit.id, kind: unit.kind, [label]: value }, 0)
  }
  const restarts: Counter<string> = new Counter({
    name: "sam_unit_restarts_total",
    help: "Restarts of the unit's instances by reason: the failure (exit, liveness, heartbeat, memory, ...) or requested.",
    labelNames: ["unit", "kind", "reason"],
    registers,
    collect: () => zeroed(restarts, "reason", ["exit", "requested"]),
  })
  const crashes: Counter<string> = new Counter({
    name: "sam_crashes_total",
    help: "Failures of the unit's instances (each one SAM answers with its restart policy), by failure kind.",
    labelNames: ["unit", "kind", "failure"],
    registers,
    collect: () => zeroed(crashes, "failure", ["exit"]),
  })
  return incidents.subscribe({
    restart: (r) => restarts.inc({ unit: r.unit, kind: snapshot.kindOf(r.unit), reason: r.reason }),
    failure: (f) => crashes.inc({ unit: f.unit, kind: snapshot.kindOf(f.unit), failure: f.failure }),
  })
}
