// Supervision of plugins, OTP-style: a plugin whose hook throws (an event listener, a timer, a
// sink) is set up again after a backoff, at most `maxRestarts` times in `windowMs`; past that it
// stays failed (crashed) until a fixed version is saved. Setup failures are not retried here: the
// same code would fail the same way, and an edit reloads it anyway.

import type { EventBus } from "../runtime/eventBus.ts"
import { backoffDelay } from "../runtime/supervisor/backoff.ts"
import { hasRoom } from "../runtime/supervisor/restartWindow.ts"

export interface PluginRestartPolicy {
  /** 0 turns automatic restarts off. Default 3. */
  readonly maxRestarts?: number
  readonly windowMs?: number
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
}

interface Track {
  stamps: number[]
  attempts: number
  timer: NodeJS.Timeout | undefined
}

export class PluginRestarts {
  private readonly tracks = new Map<string, Track>()
  private readonly policy: Required<PluginRestartPolicy>
  private readonly bus: EventBus
  private stopped = false

  constructor(bus: EventBus, policy: PluginRestartPolicy = {}) {
    this.bus = bus
    this.policy = {
      maxRestarts: policy.maxRestarts ?? 3,
      windowMs: policy.windowMs ?? 60_000,
      backoffBaseMs: policy.backoffBaseMs ?? 1_000,
      backoffMaxMs: policy.backoffMaxMs ?? 30_000,
    }
  }

  /**
   * `plugin` failed while running: restart it after a backoff, or give up. Returns the message
   * suffix that says which, for the plugin's status.
   */
  failed(plugin: string, restart: () => void): string {
    if (this.stopped || this.policy.maxRestarts === 0) return ""
    const track = this.track(plugin)
    const now = Date.now()
    if (!hasRoom(track.stamps, now, this.policy.maxRestarts, this.policy.windowMs)) {
      const detail = `gave up after ${this.policy.maxRestarts} restarts in ${this.policy.windowMs / 1000}s`
      this.bus.publish({ type: "plugin.crashed", plugin, detail })
      return `; ${detail} (save a fixed version to reload it)`
    }
    track.stamps = [...track.stamps.filter((t) => now - t < this.policy.windowMs), now]
    const delayMs = backoffDelay(
      { baseMs: this.policy.backoffBaseMs, maxMs: this.policy.backoffMaxMs },
      track.attempts++,
    )
    clearTimeout(track.timer)
    track.timer = setTimeout(() => {
      track.timer = undefined
      if (!this.stopped) restart()
    }, delayMs)
    track.timer.unref()
    this.bus.publish({ type: "plugin.restarting", plugin, delayMs })
    return `; restarting in ${delayMs} ms`
  }

  /** A saved edit or an unload took over: forget the pending restart. */
  cancel(plugin: string): void {
    const track = this.tracks.get(plugin)
    if (track?.timer) clearTimeout(track.timer)
    if (track) track.timer = undefined
  }

  stop(): void {
    this.stopped = true
    for (const name of this.tracks.keys()) this.cancel(name)
  }

  private track(plugin: string): Track {
    let track = this.tracks.get(plugin)
    if (!track) {
      track = {
        stamps: [],
        attempts: 0,
        timer: undefined,
      }
      this.tracks.set(plugin, track)
    }
    return track
  }
}
