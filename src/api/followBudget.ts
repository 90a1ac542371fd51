// How far a log follower may fall behind: the frames queued for one SSE client and not yet taken
// by its response, in UTF-16 units. Past the budget its lines are skipped (they stay in the unit's
// log files) until it has taken half of the budget back; then it is told what it missed, once.
// A client that stops reading thus holds at most `budget` of SAM's memory and keeps following.

export class FollowBudget {
  private queued = 0
  private skipped = 0
  private first = 0
  private last = 0
  private readonly budget: number

  constructor(budget: number) {
    this.budget = budget
  }

  /** Whether a line frame of `length` may be queued now; false counts it as skipped. */
  admit(seq: number, length: number): boolean {
    const behind = this.skipped > 0 ? this.queued > this.budget / 2 : this.queued + length > this.budget
    if (!behind) return true
    this.skip(seq)
    return false
  }

  /** Whether less than the budget is queued: the history is sent only while there is room. */
  hasRoom(): boolean {
    return this.queued < this.budget
  }

  /** A line not queued at all (no room to hold it for later): counted as skipped. */
  skip(seq: number): void {
    if (this.skipped === 0) this.first = seq
    this.skipped++
    this.last = seq
  }

  /** A frame of `length` was queued (admitted lines, gaps, heartbeats). */
  queue(length: number): void {
    this.queued += length
  }

  /** The response took a frame of `length`. */
  taken(length: number): void {
    this.queued -= length
  }

  /** What was skipped, in words, once the client has caught up (and only then); resets. */
  caughtUp(): string | undefined {
    if (this.skipped === 0 || this.queued > this.budget / 2) return undefined
    const { skipped, first, last } = this
    this.skipped = 0
    const seqs = first === last ? `seq ${first}` : `seq ${first} to ${last}`
    return `skipped ${skipped} line${skipped === 1 ? "" : "s"} (${seqs}): this client fell behind; ${skipped === 1 ? "it is" : "they are"} in the unit's log files (sam logs)`
  }
}
