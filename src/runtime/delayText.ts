/** "0.6s", "6.4s", "2m15s": a (jittered) delay as people read it, tenths of a second at most. */
export const delayText = (ms: number): string => {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
}

/**
 * "exited with code 1; restart in 0.6s": a reason with the delay decided for it, as the moment's
 * events say it. Statuses keep the reason alone: their `nextAttemptAt` is the delay, never stale.
 */
export const withDelay = (reason: string, next: "restart" | "retrying", delayMs: number): string =>
  `${reason}; ${next} in ${delayText(delayMs)}`
