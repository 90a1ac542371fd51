/** "0.6s", "6.4s", "2m15s": a (jittered) delay as people read it, tenths of a second at most. */
export const delayText = (ms: number): string => {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
}
