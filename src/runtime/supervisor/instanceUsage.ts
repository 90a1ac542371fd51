// What an instance's process tree uses (resident memory, CPU) as sampled now and then by its
// runner (instanceRunner.ts): the pure part, the CPU share over an interval and the memory limit.

/** What an instance's whole process tree used at its last sample. */
export interface InstanceUsage {
  readonly rssBytes: number
  readonly cpuSeconds: number
  /** Over the last sampling interval, in percent of one core. */
  readonly cpuPercent: number
  /** How long cpuPercent was measured over (0: the first sample of an incarnation, no figure yet). */
  readonly intervalMs: number
  /** Epoch ms of the sample. */
  readonly at: number
  /** The limit this reading was over: the reading that had the instance killed ("memory"). */
  readonly overLimit?: string
}

/**
 * The sample taken at `now` after `last` (CPU % over the time between them), or `last` again
 * when the tree is gone (between its exit and the exit being reported it reads as 0 bytes).
 */
export const nextUsage = (
  last: InstanceUsage | undefined,
  now: number,
  rssBytes: number,
  cpuSeconds: number,
): InstanceUsage | undefined => {
  if (rssBytes <= 0 && last !== undefined) return last
  const intervalMs = last && now > last.at ? now - last.at : 0
  const cpuPercent =
    last && intervalMs > 0 ? Math.max(0, ((cpuSeconds - last.cpuSeconds) * 100_000) / intervalMs) : 0
  return { rssBytes, cpuSeconds, cpuPercent, intervalMs, at: now }
}

/** Why a tree of `rssBytes` is over `resources.max_memory_mb`, if it is. */
export const overMemoryLimit = (rssBytes: number, limitMb: number | undefined): string | undefined => {
  if (limitMb === undefined || rssBytes <= limitMb * 1024 * 1024) return undefined
  const mb = (rssBytes / 1024 / 1024).toFixed(1)
  return `memory: ${mb} MB resident, over resources.max_memory_mb ${limitMb}`
}
