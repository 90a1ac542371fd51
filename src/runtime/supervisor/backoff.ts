// Restart delay: exponential from the base, capped, with ±20% jitter so that siblings that
// failed together do not restart in lockstep. Pure; the random source is injectable for tests.

export interface BackoffParams {
  readonly baseMs: number
  readonly maxMs: number
}

/** Delay before restart number `attempt` (0 = first restart after a stable run). */
export const backoffDelay = (
  params: BackoffParams,
  attempt: number,
  random: () => number = Math.random,
): number => {
  const exponential = params.baseMs * 2 ** Math.max(0, attempt)
  const capped = Math.min(params.maxMs, exponential)
  const jitter = 0.8 + random() * 0.4
  return Math.round(Math.min(params.maxMs, capped * jitter))
}
