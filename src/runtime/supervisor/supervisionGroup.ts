// A supervision group: OTP's supervisor node between the root and the units. It has a strategy
// (which siblings a failure takes down with it) and, when declared, a restart intensity of its own.
// Pure; the supervisor keeps the group's restart timestamps and applies what these return.

export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one"

export interface GroupSpec {
  readonly name: string
  readonly strategy: Strategy
  /** Restarts of all members within windowMs before the group shuts down; undefined: no limit. */
  readonly maxRestarts: number | undefined
  readonly windowMs: number
}

/**
 * Groups nobody declared ("services", "agents", or a name only a unit mentions) have no group
 * limit: their units merely share a kind, so one unit's crash loop must not stop the others.
 */
export const implicitGroup = (name: string): GroupSpec => ({
  name,
  strategy: "one_for_one",
  maxRestarts: undefined,
  windowMs: 60_000,
})

/** What a group needs to know of a member to pick siblings. */
export interface Member {
  readonly key: string
  readonly temporary: boolean
  /** Stopped, crashed or already stopping: a sibling restart leaves it as it is. */
  readonly settled: boolean
}

/**
 * The siblings of `failed` (in start order) that its failure takes down with it: none
 * (one_for_one), all others (one_for_all) or those started after it (rest_for_one). OTP:
 * temporary children are never restarted because of a sibling; settled ones stay as they are.
 */
export const siblingsToRestart = (
  strategy: Strategy,
  members: ReadonlyArray<Member>,
  failed: string,
): ReadonlyArray<string> => {
  if (strategy === "one_for_one") return []
  const index = members.findIndex((m) => m.key === failed)
  const siblings =
    strategy === "one_for_all" ? members.filter((m) => m.key !== failed) : members.slice(index + 1)
  return siblings.filter((s) => !s.temporary && !s.settled).map((s) => s.key)
}
