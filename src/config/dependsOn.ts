// `depends_on` as Compose writes it: a list of ids (each must be ready: healthy), or a map of id →
// `{ condition }` with Compose's conditions: `service_healthy` (ready, the default),
// `service_started` (running, ready or not) and `service_completed_successfully` (a job, such as
// a migration, that has exited 0). The helpers read either form, raw or decoded.
import * as Schema from "effect/Schema"
import { NonEmpty, StringList, withDefault } from "./schemaPrimitives.ts"

export const DEPENDENCY_CONDITIONS = [
  "service_healthy",
  "service_started",
  "service_completed_successfully",
] as const
export type DependencyCondition = (typeof DEPENDENCY_CONDITIONS)[number]

const ConditionEntry = Schema.Struct({
  condition: Schema.Literals(DEPENDENCY_CONDITIONS).pipe(
    withDefault(
      "service_healthy",
      "service_healthy: ready; service_started: running, ready or not; service_completed_successfully: exited 0.",
    ),
  ),
}).annotate({ identifier: "DependencyCondition" })

export const DependsOnSchema = Schema.Union([StringList, Schema.Record(NonEmpty, ConditionEntry)]).annotate({
  description:
    "Agents/services that must be ready before this unit starts: a list of ids, or a map of id to { condition } (Compose's long syntax).",
})

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Each dependency's id and where it is written (a list index, or the map key). */
export const dependencyEntries = (
  value: unknown,
): Array<{ readonly id: string; readonly at: string | number }> => {
  if (Array.isArray(value)) return value.flatMap((v, i) => (typeof v === "string" ? [{ id: v, at: i }] : []))
  return isRecord(value) ? Object.keys(value).map((id) => ({ id, at: id })) : []
}

export const dependencyIds = (value: unknown): Array<string> => dependencyEntries(value).map((e) => e.id)

/** The conditions other than the default (service_healthy), by dependency id. */
export const dependencyConditions = (value: unknown): Record<string, DependencyCondition> => {
  if (!isRecord(value)) return {}
  const out: Record<string, DependencyCondition> = {}
  for (const [id, entry] of Object.entries(value)) {
    const condition = isRecord(entry) ? entry.condition : undefined
    if (condition === "service_started" || condition === "service_completed_successfully") out[id] = condition
  }
  return out
}
