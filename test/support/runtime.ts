// Test support for the runtime: build UnitSpecs tersely, run a Supervisor on them, and guarantee
// that every process it started (and every grandchild a fixture reported) is gone afterwards.
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope } from "effect"
import type { CommandName, StopOptions } from "../../src/actors/lifecycle.machine.ts"
import { type Containment, detectContainment } from "../../src/runtime/containment/index.ts"
import type { Driver } from "../../src/runtime/drivers/driver.ts"
import { processDriver } from "../../src/runtime/drivers/processDriver.ts"
import { EventBus, type SamEvent } from "../../src/runtime/eventBus.ts"
import { builtinProbes } from "../../src/runtime/health/builtinProbes.ts"
import { isAlive } from "../../src/runtime/os/proc.ts"
import type { InstanceRunner } from "../../src/runtime/supervisor/instanceRunner.ts"
import {
  type GroupSpec,
  type StartReport,
  Supervisor,
  type UnitStatus,
} from "../../src/runtime/supervisor/supervisor.ts"
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

/** A supervisor driven from promise-based tests (the Effect API is the supervisor's own). */
export interface TestSupervisor {
  readonly effect: Supervisor
  startAll(timeoutMs?: number): Promise<StartReport>
  command(id: string, command: CommandName, options?: StopOptions & { reason?: string }): Promise<void>
  shutdown(options?: { timeoutMs?: number }): Promise<void>
  status(id: string): UnitStatus
  runners(id: string): ReadonlyArray<InstanceRunner>
  startOrder(): ReadonlyArray<string>
  groupStates(): ReturnType<Supervisor["groupStates"]>
  configureGroups(groups: ReadonlyArray<GroupSpec>): void
  scale(id: string, count: number, drain?: (unit: string, instance: number) => Promise<void>): Promise<void>
}

export interface Harness {
  readonly supervisor: TestSupervisor
  readonly bus: EventBus
  readonly events: SamEvent[]
  /** Every pid seen in a transition, plus any registered by the test. */
  readonly pids: Set<number>
  /** Resolves with the first event matching `predicate` (already seen or future). */
  next(predicate: (e: SamEvent) => boolean): Promise<SamEvent>
  /** Resolves with the first line of `unit`'s output matching `predicate` (already seen or future). */
  nextLine(unit: string, predicate: (line: string) => boolean): Promise<string>
  dispose(): Promise<void>
}

/** Resolves once `predicate` holds for `runner`. */
export const waitFor = (runner: InstanceRunner, predicate: (r: InstanceRunner) => boolean): Promise<void> =>
  Effect.runPromise(runner.until(predicate))

/** A Supervisor in a scope of its own, with promise methods for tests. */
export const testSupervisor = (
  specs: ReadonlyArray<UnitSpec>,
  groups: ReadonlyArray<GroupSpec>,
  bus: EventBus,
  drivers: ReadonlyArray<readonly [string, Driver]> = [["process", processDriver]],
  output?: (unit: string, line: string) => void,
  containment: Containment | undefined = detectContainment(),
): TestSupervisor & { dispose(): Promise<void> } => {
  const scope = Effect.runSync(Scope.make())
  const supervisor = Effect.runSync(
    Supervisor.make(specs, groups, {
      drivers: new Map(drivers),
      probes: builtinProbes(),
      ...(containment === undefined ? {} : { containment }),
      publish: (event) => bus.publish(event),
      recentLines: { lines: 200, bytes: 256 * 1024 },
      ...(output === undefined ? {} : { output: (runner, entry) => output(runner.spec.id, entry.line) }),
    }).pipe(Scope.provide(scope)),
  )
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
  return {
    effect: supervisor,
    startAll: (timeoutMs) => run(supervisor.startAll(timeoutMs)),
    command: (id, command, options) => run(supervisor.command(id, command, options)),
    shutdown: (options) => run(supervisor.shutdown(options)),
    status: (id) => supervisor.status(id),
    runners: (id) => supervisor.runners(id),
    startOrder: () => supervisor.startOrder(),
    groupStates: () => supervisor.groupStates(),
    configureGroups: (groups) => supervisor.configureGroups(groups),
    scale: (id, count, drain) =>
      run(
        supervisor.scale(
          id,
          count,
          drain === undefined
            ? {}
            : { drain: (unit, instance) => Effect.promise(() => drain(unit, instance)) },
        ),
      ),
    dispose: async () => {
      await run(supervisor.shutdown())
      await run(Scope.close(scope, Exit.void))
      await containment?.dispose()
    },
  }
}

export const harness = (specs: ReadonlyArray<UnitSpec>, groups: ReadonlyArray<GroupSpec> = []): Harness => {
  const bus = new EventBus(10_000)
  const events: SamEvent[] = []
  const pids = new Set<number>()
  bus.subscribe((e) => {
    events.push(e)
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
  })
  const lines: Array<{ unit: string; line: string }> = []
  const lineWaiters = new Set<(entry: { unit: string; line: string }) => void>()
  const supervisor = testSupervisor(specs, groups, bus, undefined, (unit, line) => {
    const entry = { unit, line }
    lines.push(entry)
    for (const waiter of lineWaiters) waiter(entry)
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
    nextLine: (unit, predicate) =>
      new Promise((resolve) => {
        const seen = lines.find((l) => l.unit === unit && predicate(l.line))
        if (seen) return resolve(seen.line)
        const waiter = (entry: { unit: string; line: string }) => {
          if (entry.unit === unit && predicate(entry.line)) {
            lineWaiters.delete(waiter)
            resolve(entry.line)
          }
        }
        lineWaiters.add(waiter)
      }),
    dispose: async () => {
      for (const r of supervisor.effect.allRunners()) if (r.pid) pids.add(r.pid)
      await supervisor.dispose()
    },
  }
}

/** Pids from the list that are still alive (zombies excluded). */
export const survivors = (pids: Iterable<number>): number[] => [...pids].filter((pid) => isAlive(pid))

export const transitionsOf = (events: ReadonlyArray<SamEvent>, unit: string) =>
  events.flatMap((e) => (e.type === "transition" && e.unit === unit ? [`${e.from}->${e.to}`] : []))
