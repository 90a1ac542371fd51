/** "0.6s", "6.4s", "2m15s": a (jittered) delay as people read it, tenths of a second at most. */
export const delayText = (ms: number): string => {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
}

/**
 * A reason without the delay it was decided with ("…; restart in 8.7s", decide.ts): shown later
 * (under `sam ps`' table, in a gateway answer) it would be stale beside a countdown of its own.
 */
export const withoutDelay = (reason: string): string =>
  reason.replace(/; (restart|retrying) in (?:[\d.]+s|\d+m\d\ds)(?=\)|$)/, "")
