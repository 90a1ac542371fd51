// A health probe is a function from a target to a result; kinds are looked up by name in a
// registry so that plugins can add their own (the built-ins are http, tcp and exec).
import type { ProbeSpec } from "../unitSpec.ts"

export interface ProbeTarget {
  readonly unit: string
  readonly instance: number
  readonly host: string
  readonly port: number | undefined
  /** Base URL of the instance (external services, container/port mappings). */
  readonly url: string | undefined
  readonly pid: number | undefined
}

export interface ProbeResult {
  readonly ok: boolean
  readonly detail: string
}

/** Runs one check; must settle by itself within `spec.timeoutMs` or when `signal` aborts. */
export type ProbeFn = (spec: ProbeSpec, target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>

export class ProbeRegistry {
  private readonly kinds = new Map<string, ProbeFn>()

  register(kind: string, probe: ProbeFn): () => void {
    this.kinds.set(kind, probe)
    return () => {
      if (this.kinds.get(kind) === probe) this.kinds.delete(kind)
    }
  }

  get(kind: string): ProbeFn | undefined {
    return this.kinds.get(kind)
  }

  names(): ReadonlyArray<string> {
    return [...this.kinds.keys()]
  }
}

export interface HealthRecord {
  readonly at: string
  readonly probe: string
  readonly ok: boolean
  readonly detail: string
  readonly durationMs: number
}
