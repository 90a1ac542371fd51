// Test support for agents: UnitSpecs for the fixture agents, a Sam running them, and cleanup
// that stops everything and checks that no process it started is left.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { SamEvent } from "../../src/runtime/eventBus.ts"
import { Sam, type SamOptions } from "../../src/runtime/sam.ts"
import {
  type AgentDeployment,
  defaultRestart,
  defaultStop,
  type UnitSpec,
} from "../../src/runtime/unitSpec.ts"
import { fixture, survivors } from "./runtime.ts"

export const probeAgent = fixture("agents/probe")

type AgentOverrides = Partial<Omit<UnitSpec, "agent" | "restart" | "stop">> & {
  agent?: Partial<AgentDeployment>
  restart?: Partial<UnitSpec["restart"]>
  stop?: Partial<UnitSpec["stop"]>
}

/** A sandboxed `standard` agent running the probe fixture, restarting fast. */
export const agentUnit = (id: string, overrides: AgentOverrides = {}): UnitSpec => {
  const { agent, restart, stop, ...rest } = overrides
  return {
    id,
    kind: "agent",
    runtime: "sandbox",
    group: "agents",
    dependsOn: [],
    dependencyRestart: "none",
    instances: 1,
    probes: [],
    ...rest,
    restart: { ...defaultRestart, backoffBaseMs: 20, backoffMaxMs: 200, ...restart },
    stop: { ...defaultStop, graceMs: 1_000, ...stop },
    agent: {
      path: probeAgent,
      securityProfile: "standard",
      environment: {},
      capabilities: ["echo"],
      network: false,
      // Generous: a loaded CI machine must not make a blocking-but-healthy handler "late".
      heartbeatIntervalMs: 1_000,
      heartbeatTtlMs: 10_000,
      dataDir: join(scratch(), id),
      config: {},
      ...agent,
    },
  }
}

let scratchDir: string | undefined
/** A temporary directory for data dirs and escape targets, removed by `stopAll`. */
export const scratch = (): string => {
  scratchDir ??= mkdtempSync(join(tmpdir(), "sam-agents-"))
  return scratchDir
}

export interface AgentHarness {
  readonly sam: Sam
  readonly events: SamEvent[]
  readonly pids: Set<number>
  /** The first event (already seen or future) matching `predicate`. */
  next(predicate: (e: SamEvent) => boolean): Promise<SamEvent>
  /** The first line of output (of `unit`, or any unit; already seen or future) matching `predicate`. */
  nextLine(predicate: (line: string) => boolean, unit?: string): Promise<string>
}

const running: AgentHarness[] = []

export const startAgents = async (
  units: ReadonlyArray<UnitSpec>,
  options: Partial<Omit<SamOptions, "units" | "output">> = {},
): Promise<AgentHarness> => {
  const lines: Array<{ unit: string; line: string }> = []
  const lineWaiters = new Set<(entry: { unit: string; line: string }) => void>()
  const sam = new Sam({
    units,
    startTimeoutMs: 20_000,
    ...options,
    output: (unit, _instance, { line }) => {
      lines.push({ unit, line })
      for (const waiter of lineWaiters) waiter({ unit, line })
    },
  })
  const events: SamEvent[] = []
  const pids = new Set<number>()
  const waiting = new Set<{ predicate: (e: SamEvent) => boolean; resolve: (e: SamEvent) => void }>()
  sam.events.subscribe((e) => {
    events.push(e)
    if (e.type === "transition" && typeof e.pid === "number") pids.add(e.pid)
    for (const w of waiting) {
      if (w.predicate(e)) {
        waiting.delete(w)
        w.resolve(e)
      }
    }
  })
  const harness: AgentHarness = {
    sam,
    events,
    pids,
    next: (predicate) =>
      new Promise((resolve) => {
        const seen = events.find(predicate)
        if (seen) resolve(seen)
        else waiting.add({ predicate, resolve })
      }),
    nextLine: (predicate, unit) =>
      new Promise((resolve) => {
        const matches = (e: { unit: string; line: string }) =>
          (unit === undefined || e.unit === unit) && predicate(e.line)
        const seen = lines.find(matches)
        if (seen) return resolve(seen.line)
        const waiter = (e: { unit: string; line: string }) => {
          if (!matches(e)) return
          lineWaiters.delete(waiter)
          resolve(e.line)
        }
        lineWaiters.add(waiter)
      }),
  }
  running.push(harness)
  await sam.start()
  for (const unit of sam.status().units) for (const i of unit.instances) if (i.pid) pids.add(i.pid)
  return harness
}

/** Stop every Sam started by the test; returns the pids still alive (should be none). */
export const stopAll = async (): Promise<number[]> => {
  const all = running.splice(0)
  for (const h of all) {
    for (const unit of h.sam.status().units) for (const i of unit.instances) if (i.pid) h.pids.add(i.pid)
    await h.sam.stop({ timeoutMs: 1_000 })
  }
  return all.flatMap((h) => survivors(h.pids))
}

export const removeScratch = (): void => {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true })
  scratchDir = undefined
}

export const transitionTo = (unit: string, to: string, reasonStart?: string) => (e: SamEvent) =>
  e.type === "transition" &&
  e.unit === unit &&
  e.to === to &&
  (reasonStart === undefined || e.reason.startsWith(reasonStart))

/** Custom (`agent.*`) events of one type, as plain records. */
export const eventsOf = (h: AgentHarness, type: string): ReadonlyArray<Readonly<Record<string, unknown>>> =>
  h.events.filter((e) => e.type === type) as ReadonlyArray<Readonly<Record<string, unknown>>>
