// Shared helpers for benchmarks: medians and a plain report line. Benchmarks print ratios
// against a baseline measured in the same run, because absolute times on shared machines drift.

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const ms = (n: number): string => `${n.toFixed(1)} ms`

export const waitUntil = async (
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("benchmark condition not reached in time")
    await new Promise((r) => setTimeout(r, 1))
  }
}
