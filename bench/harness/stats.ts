// Medians and spreads of repeated measurements: every figure of the bench is a median, reported
// with the smallest and largest value it is the median of (machines are noisy).
import type { Spread } from "./figure.ts"

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) throw new Error("median of no values: the measurement produced none")
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const spreadOf = (values: ReadonlyArray<number>): Spread => ({
  min: Math.min(...values),
  max: Math.max(...values),
  samples: values.length,
})

/** The median and the spread of `values`, as a Figure's value and spread. */
export const summary = (values: ReadonlyArray<number>): { value: number; spread: Spread } => ({
  value: median(values),
  spread: spreadOf(values),
})

export const megabytes = (bytes: number): number => bytes / 1024 / 1024
