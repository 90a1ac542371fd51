// The life of an alert, as a pure step: a condition that starts to hold makes a pending alert;
// one that has held for the rule's `for` fires (once: de-duplicated by rule and unit); one that
// stops holding resolves a firing alert and drops a pending one silently.
import type { AlertRule } from "./alertRule.ts"
import type { Condition } from "./conditions.ts"

export interface TrackedAlert {
  readonly key: string
  readonly rule: AlertRule
  readonly unit: string | undefined
  readonly state: "pending" | "firing"
  /** When the condition began to hold (epoch ms). */
  readonly activeSince: number
  /** When it fired (epoch ms). */
  readonly firedAt: number | undefined
  readonly condition: Condition
}

export interface ResolvedAlert extends TrackedAlert {
  readonly resolvedAt: number
}

export interface Step {
  readonly next: ReadonlyMap<string, TrackedAlert>
  readonly fired: ReadonlyArray<TrackedAlert>
  readonly resolved: ReadonlyArray<ResolvedAlert>
}

export const alertKey = (rule: string, unit: string | undefined): string => `${rule}\u0000${unit ?? ""}`

/** Advance every tracked alert of `rules` given the conditions that hold `now`. */
export const advance = (
  current: ReadonlyMap<string, TrackedAlert>,
  holding: ReadonlyArray<{ readonly rule: AlertRule; readonly condition: Condition }>,
  now: number,
): Step => {
  const next = new Map<string, TrackedAlert>()
  const fired: TrackedAlert[] = []
  for (const { rule, condition } of holding) {
    const key = alertKey(rule.name, condition.unit)
    if (next.has(key)) continue
    const before = current.get(key)
    const activeSince = before?.activeSince ?? now
    if (before?.state === "firing") {
      next.set(key, { ...before, rule, condition })
      continue
    }
    if (now - activeSince >= rule.forMs) {
      const alert: TrackedAlert = {
        key,
        rule,
        unit: condition.unit,
        state: "firing",
        activeSince,
        firedAt: now,
        condition,
      }
      next.set(key, alert)
      fired.push(alert)
    } else
      next.set(key, {
        key,
        rule,
        unit: condition.unit,
        state: "pending",
        activeSince,
        firedAt: undefined,
        condition,
      })
  }
  const resolved: ResolvedAlert[] = []
  for (const [key, alert] of current)
    if (!next.has(key) && alert.state === "firing") resolved.push({ ...alert, resolvedAt: now })
  return { next, fired, resolved }
}
