// The agent side of a streamed call (`ctx.invokeStream` in a process, sandbox or worker agent):
// the chunks SAM sends (`call-chunk`) wait here until the handler's `for await` takes them. SAM
// sends at most `callStreamWindow` chunks ahead of that reading; every half window read is
// acknowledged (`call-ack`), so a slow reader holds a bounded number of chunks in the agent and
// the rest waits in SAM, within its stream caps. Leaving the loop early cancels the call.

/**
 * Chunks SAM sends ahead of the agent's reading of a streamed call; the agent acks every half.
 * Here, not in protocol.ts, so that an agent process reads it without loading effect.
 */
export const callStreamWindow = 32

/** What the stream tells SAM: chunks read (acknowledged), or that it is no longer read. */
export interface CallStreamLink {
  readonly ack: (chunks: number) => void
  readonly cancel: () => void
}

export class CallStream implements AsyncIterableIterator<unknown> {
  private readonly queue: unknown[] = []
  private readonly link: CallStreamLink
  private readonly ackEvery: number
  private unacked = 0
  private ended = false
  private failure: Error | undefined
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: Error) => void } | undefined

  constructor(link: CallStreamLink, window: number) {
    this.link = link
    this.ackEvery = Math.max(1, Math.floor(window / 2))
  }

  push(chunk: unknown): void {
    if (this.ended) return
    if (this.waiter) {
      const waiter = this.waiter
      this.waiter = undefined
      this.taken()
      waiter.resolve({ value: chunk, done: false })
    } else this.queue.push(chunk)
  }

  /** The output ended; what is queued is still read. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.settleWaiter()
  }

  /** The call failed: read what is queued, then the failure. */
  fail(error: Error): void {
    if (this.ended) return
    this.ended = true
    this.failure = error
    this.settleWaiter()
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()
      this.taken()
      return Promise.resolve({ value, done: false })
    }
    if (this.failure) {
      const failure = this.failure
      this.failure = undefined
      return Promise.reject(failure)
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  /** The reader left the loop: the call is cancelled in SAM (and in the agent serving it). */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.ended) {
      this.ended = true
      this.link.cancel()
    }
    this.queue.length = 0
    this.failure = undefined
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private taken(): void {
    this.unacked++
    if (this.unacked >= this.ackEvery && !this.ended) {
      this.link.ack(this.unacked)
      this.unacked = 0
    }
  }

  private settleWaiter(): void {
    const waiter = this.waiter
    if (!waiter) return
    this.waiter = undefined
    if (this.failure) {
      const failure = this.failure
      this.failure = undefined
      waiter.reject(failure)
    } else waiter.resolve({ value: undefined, done: true })
  }
}
