// Counters over a sliding time window as a ring of buckets: the retry budget (requests and
// retries) and the breaker (calls, failures, slow calls) add to the current bucket and read the
// sum of the live ones. O(1) per record, no allocation after construction. Pure: time is passed in.

export class SlidingWindow {
  private readonly bucketMs: number
  private readonly counts: Float64Array
  private readonly stamps: Float64Array
  private readonly width: number
  private readonly buckets: number

  /** `width` counters per bucket, `buckets` buckets over `windowMs`. */
  constructor(windowMs: number, width: number, buckets = 10) {
    this.bucketMs = Math.max(1, windowMs / buckets)
    this.buckets = buckets
    this.width = width
    this.counts = new Float64Array(buckets * width)
    this.stamps = new Float64Array(buckets).fill(-1)
  }

  private slot(now: number): number {
    const epoch = Math.floor(now / this.bucketMs)
    const i = epoch % this.buckets
    if (this.stamps[i] !== epoch) {
      this.stamps[i] = epoch
      this.counts.fill(0, i * this.width, (i + 1) * this.width)
    }
    return i
  }

  add(now: number, counter: number, amount = 1): void {
    const i = this.slot(now)
    this.counts[i * this.width + counter] = (this.counts[i * this.width + counter] ?? 0) + amount
  }

  /** The sum of `counter` over the window ending now. */
  sum(now: number, counter: number): number {
    const epoch = Math.floor(now / this.bucketMs)
    let total = 0
    for (let i = 0; i < this.buckets; i++) {
      const stamp = this.stamps[i] ?? -1
      if (stamp >= 0 && epoch - stamp < this.buckets) total += this.counts[i * this.width + counter] ?? 0
    }
    return total
  }

  reset(): void {
    this.stamps.fill(-1)
    this.counts.fill(0)
  }
}

/** Retries stay under `percent` of the requests of the last 10 s (and at least `floor` retries). */
export class RetryBudget {
  private readonly window = new SlidingWindow(10_000, 2)
  private readonly percent: number
  private readonly floor: number

  constructor(percent: number, floor = 3) {
    this.percent = percent
    this.floor = floor
  }

  request(now: number): void {
    this.window.add(now, 0)
  }

  /** Whether one more retry fits; if it does, it is counted. */
  tryRetry(now: number): boolean {
    if (this.percent <= 0) return false
    const allowed = Math.max(this.floor, (this.window.sum(now, 0) * this.percent) / 100)
    if (this.window.sum(now, 1) >= allowed) return false
    this.window.add(now, 1)
    return true
  }
}
