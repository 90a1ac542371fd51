// Restart intensity as OTP defines it: at most `max` restarts within a sliding window.
// Pure bookkeeping; the supervisor decides what exceeding it means (crash, escalate).

export class RestartWindow {
  private stamps: number[] = []
  private readonly max: number
  private readonly windowMs: number

  constructor(max: number, windowMs: number) {
    this.max = max
    this.windowMs = windowMs
  }

  /** Record a restart at `now`; false when this restart would exceed the intensity. */
  tryRecord(now: number): boolean {
    this.stamps = this.stamps.filter((t) => now - t < this.windowMs)
    if (this.stamps.length >= this.max) return false
    this.stamps.push(now)
    return true
  }

  count(now: number): number {
    return this.stamps.filter((t) => now - t < this.windowMs).length
  }

  reset(): void {
    this.stamps = []
  }
}
