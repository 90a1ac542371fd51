// Watches one agent instance every ~250 ms (PM2 checks memory every 30 s): a heartbeat older
// than its TTL is HEARTBEAT_MISSED (a blocked event loop), memory past max_memory_mb is
// RESOURCE_EXCEEDED "memory", and late heartbeats or a failing health() make it unready.
import type { DriverFact } from "../driver.ts"

export interface HeartbeatSource {
  readonly lastHeartbeatAt: number
  readonly healthy: boolean
  readonly healthDetail: string | undefined
}

export interface WatchOptions {
  readonly heartbeatIntervalMs: number
  readonly heartbeatTtlMs: number
  readonly maxMemoryMb: number | undefined
  readonly heartbeats: HeartbeatSource
  /** Memory counted against the limit, in bytes (a child's RSS, a worker's heap). */
  readonly memory: () => number | undefined
  /** What `memory` measures, for messages ("RSS", "heap"). */
  readonly memoryLabel: string
  readonly emit: (fact: DriverFact) => void
}

export const defaultPollMs = 250

export class ResourceWatch {
  private readonly options: WatchOptions
  private readonly timer: ReturnType<typeof setInterval>
  private paused = false
  private missed = false
  private exceeded = false
  private ready = true
  /** Heartbeats are counted from here after a resume (a stopped process sends none). */
  private resumedAt = 0

  constructor(options: WatchOptions) {
    this.options = options
    const pollMs = Math.max(20, Math.min(defaultPollMs, options.heartbeatTtlMs / 4))
    this.timer = setInterval(() => this.check(), pollMs)
    this.timer.unref()
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.resumedAt = Date.now()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One round of checks (also called directly by tests and benchmarks). */
  check(): void {
    if (this.paused || this.missed) return
    const { heartbeats, heartbeatTtlMs, heartbeatIntervalMs, maxMemoryMb, emit } = this.options
    const age = Date.now() - Math.max(heartbeats.lastHeartbeatAt, this.resumedAt)
    if (age > heartbeatTtlMs) {
      this.missed = true
      emit({
        type: "HEARTBEAT_MISSED",
        detail: `heartbeat: none for ${age} ms (ttl ${heartbeatTtlMs} ms); the agent's event loop is blocked or hung`,
      })
      return
    }
    if (maxMemoryMb !== undefined && !this.exceeded) {
      const bytes = this.options.memory()
      if (bytes !== undefined && bytes > maxMemoryMb * 1024 * 1024) {
        this.exceeded = true
        emit({
          type: "RESOURCE_EXCEEDED",
          resource: "memory",
          detail: `memory: ${this.options.memoryLabel} ${Math.round(bytes / 1024 / 1024)} MB exceeds max_memory_mb ${maxMemoryMb}`,
          bytes,
        })
        return
      }
    }
    const late = age > 2 * heartbeatIntervalMs + defaultPollMs
    const ready = !late && heartbeats.healthy
    if (ready === this.ready) return
    this.ready = ready
    if (ready) emit({ type: "PROBE_PASSED", detail: "heartbeat on time and healthy" })
    else
      emit({
        type: "PROBE_FAILED",
        detail: late
          ? `heartbeat late: last one ${age} ms ago (interval ${heartbeatIntervalMs} ms)`
          : `unhealthy: ${heartbeats.healthDetail ?? "health() returned false"}`,
      })
  }
}
