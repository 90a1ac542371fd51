// The supervision groups as the supervisor keeps them: each group's settings, the restart stamps
// decide() counts its intensity with, and whether it shut down. Groups no config declares are made
// (implicit, supervisionGroup.ts) when a unit names them; failureAnswer.ts updates the stamps.
import type { InstanceRunner } from "./instanceRunner.ts"
import { type GroupSpec, implicitGroup, type Strategy } from "./supervisionGroup.ts"

/** A group as the supervisor keeps it: its settings, its restart stamps, whether it gave up. */
export interface GroupState {
  readonly spec: GroupSpec
  stamps: ReadonlyArray<number>
  failed: boolean
}

/** A group as surfaces see it. */
export interface GroupView {
  name: string
  strategy: Strategy
  failed: boolean
  limited: boolean
  members: ReadonlyArray<string>
}

export class SupervisionGroups {
  private readonly groups = new Map<string, GroupState>()

  constructor(specs: ReadonlyArray<GroupSpec>) {
    for (const g of specs) this.groups.set(g.name, { spec: g, stamps: [], failed: false })
  }

  /** The group called `name`, made (implicit: no limit of its own) when no config declares it. */
  named(name: string): GroupState {
    let group = this.groups.get(name)
    if (!group) {
      group = { spec: implicitGroup(name), stamps: [], failed: false }
      this.groups.set(name, group)
    }
    return group
  }

  /** The groups' settings as configured (implicit groups included). */
  specs(): ReadonlyArray<GroupSpec> {
    return [...this.groups.values()].map((g) => g.spec)
  }

  /** Each group as surfaces see it; `members` gives a group's instances in start order. */
  views(members: (group: string) => ReadonlyArray<InstanceRunner>): ReadonlyArray<GroupView> {
    return [...this.groups.values()].map((g) => ({
      name: g.spec.name,
      strategy: g.spec.strategy,
      failed: g.failed,
      limited: g.spec.maxRestarts !== undefined,
      members: members(g.spec.name).map((r) => r.key),
    }))
  }

  /**
   * Take new group settings (strategy, intensity): a changed intensity starts a fresh window, a
   * new group starts empty, a group no unit uses is kept.
   */
  configure(specs: ReadonlyArray<GroupSpec>): void {
    for (const spec of specs) {
      const group = this.groups.get(spec.name)
      const same =
        group &&
        group.spec.strategy === spec.strategy &&
        group.spec.maxRestarts === spec.maxRestarts &&
        group.spec.windowMs === spec.windowMs
      if (same) continue
      this.groups.set(spec.name, { spec, stamps: [], failed: group?.failed ?? false })
    }
  }

  /**
   * An operator's start (or a change of watched files) is how a group that shut down recovers;
   * true when it had.
   */
  clearFailure(name: string): boolean {
    const group = this.groups.get(name)
    if (!group?.failed) return false
    group.failed = false
    group.stamps = []
    return true
  }
}
