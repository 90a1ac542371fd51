// A health probe is a function from a target to a result; kinds are looked up by name in a
// registry so that plugins can add their own (the built-ins are http, tcp, exec and log).
import type { ProbeSpec } from "../unitSpec.ts"

export interface ProbeTarget {
  readonly unit: string
  readonly instance: number
  readonly host: string
  readonly port: number | undefined
  /** Base URL of the instance (external services, container/port mappings). */
  readonly url: string | undefined
  readonly pid: number | undefined
  /** Whether a line of this incarnation's output matched the regular expression `pattern` (log checks). */
  readonly logged?: (pattern: string) => boolean
}

export interface ProbeResult {
  readonly ok: boolean
  readonly detail: string
}

/**
 * What one probe loop (one check of one instance, from entering `running` to leaving it) lets a
 * probe kind keep between its checks: the HTTP check's kept-alive connection. `release` runs when
 * the loop ends, before the instance's stop proceeds.
 */
export interface ProbeSession {
  kept: unknown
  release: (() => void) | undefined
}

/**
 * Runs one check; must settle by itself within `spec.timeoutMs` or when `signal` aborts. The
 * session (optional: plugins' kinds may ignore it) is the same object for every check of the loop.
 */
export type ProbeFn = (
  spec: ProbeSpec,
  target: ProbeTarget,
  signal: AbortSignal,
  session?: ProbeSession,
) => Promise<ProbeResult>

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
