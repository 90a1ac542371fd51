// Test support for the runtime: build UnitSpecs tersely, run a Supervisor on them, and guarantee
// that every process it started (and every grandchild a fixture reported) is gone afterwards.
import { fileURLToPath } from "node:url"
import { processDriver } from "../../src/runtime/drivers/processDriver.ts"
import { EventBus, type SamEvent } from "../../src/runtime/eventBus.ts"
import { builtinProbes } from "../../src/runtime/health/builtinProbes.ts"
import { isAlive } from "../../src/runtime/os/proc.ts"
import { type GroupSpec, Supervisor } from "../../src/runtime/supervisor.ts"
import { defaultRestart, defaultStop, type ProbeSpec, type UnitSpec } from "../../src/runtime/unitSpec.ts"

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

type SpecOverrides = Partial<Omit<UnitSpec, "restart" | "stop">> & {
  restart?: Partial<UnitSpec["restart"]>
  stop?: Partial<UnitSpec["stop"]>
  env?: Record<string, string>
}

/** A process service running `node <fixture>`, restarting fast so tests stay quick. */
export const nodeService = (id: string, script: string, overrides: SpecOverrides = {}): UnitSpec => {
  const { restart, stop, env, ...rest } = overrides
  return {
    id,
    kind: "service",
    runtime: "process",
    group: "services",
    dependsOn: [],
    dependencyRestart: "none",
    instances: 1,
    probes: [],
    process: { command: process.execPath, args: [fixture(script)], env: env ?? {}, inheritEnv: false },
    ...rest,
    restart: { ...defaultRestart, backoffBaseMs: 20, backoffMaxMs: 200, ...restart },
    stop: { ...defaultStop, graceMs: 2_000, ...stop },
  }
}

/** An HTTP readiness check (readiness only: a loaded CI machine may start node slowly, and a
 * liveness check would then restart it, which these tests are not about). */
export const httpCheck = (overrides: Partial<ProbeSpec> = {}): ProbeSpec => ({
  type: "http",
  endpoint: "/health",
  intervalMs: 200,
  timeoutMs: 1_000,
  failureThreshold: 2,
  successThreshold: 1,
  startPeriodMs: 0,
  role: "readiness",
  ...overrides,
})

export interface Harness {
  readonly supervisor: Supervisor
  readonly bus: EventBus
  readonly events: SamEvent[]
  /** Every pid seen in a transition, plus any registered by the test. */
  readonly pids: Set<number>
  /** Resolves with the first event matching `predicate` (already seen or future). */
  next(predicate: (e: SamEvent) => boolean): Promise<SamEvent>
  dispose(): Promise<void>
}

export const harness = (specs: ReadonlyArray<UnitSpec>, groups: ReadonlyArray<GroupSpec> = []): Harness => {
  const bus = new EventBus(10_000)
  const events: SamEvent[] = []
  const pids = new Set<number>()
  bus.subscribe((e) => {
    events.push(e)
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const supervisor = new Supervisor(specs, groups, {
    bus,
    drivers: new Map([["process", processDriver]]),
    probes: builtinProbes(),
    maxLogLines: 200,
  })
  return {
    supervisor,
    bus,
    events,
    pids,
    next: (predicate) =>
      new Promise((resolve) => {
        const seen = events.find(predicate)
        if (seen) return resolve(seen)
        const off = bus.subscribe((e) => {
          if (predicate(e)) {
            off()
            resolve(e)
          }
        })
      }),
    dispose: async () => {
      for (const r of supervisor.allRunners()) if (r.pid) pids.add(r.pid)
      await supervisor.shutdown()
    },
  }
}

/** Pids from the list that are still alive (zombies excluded). */
export const survivors = (pids: Iterable<number>): number[] => [...pids].filter((pid) => isAlive(pid))

export const transitionsOf = (events: ReadonlyArray<SamEvent>, unit: string) =>
  events.flatMap((e) => (e.type === "transition" && e.unit === unit ? [`${e.from}->${e.to}`] : []))
