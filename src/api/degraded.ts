// When a unit of several instances is degraded, and how `sam ps` and the dashboard say it: it
// serves (some instance is ready) while some of its instances are down (in backoff, error or
// crashed). Its `status` is then its worst instance's (`backoff`), which alone would read as if
// the whole unit were down; "1 of 2 in backoff" says how much of it is.

/** States of an instance that is down, not on its way. */
const downStates: ReadonlySet<string> = new Set(["error", "crashed", "backoff"])

export interface Degraded {
  /** How many of its instances are in `state`. */
  readonly down: number
  /** How many instances it has. */
  readonly of: number
  /** The unit's `status`, its worst instance's. */
  readonly state: string
}

/**
 * A unit (an API unit view) that serves while some of its instances are down: how many of how
 * many, in which state; undefined when it is not degraded (one instance, none serving, or its
 * status is no down state).
 */
export const degradedOf = (unit: {
  readonly status: string
  readonly per_instance: ReadonlyArray<{ readonly status: string; readonly ready: boolean }>
}): Degraded | undefined => {
  const each = unit.per_instance
  if (each.length < 2 || !downStates.has(unit.status) || !each.some((i) => i.ready)) return undefined
  return { down: each.filter((i) => i.status === unit.status).length, of: each.length, state: unit.status }
}

/** "1 of 2 in backoff", "1 of 3 crashed". */
export const degradedText = (d: Degraded): string =>
  `${d.down} of ${d.of} ${d.state === "backoff" ? "in backoff" : d.state}`
