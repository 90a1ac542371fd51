// An instance number a unit can never run (at or past scaling.max_instances): a query for it
// would only answer nothing, so it is a 400 naming the instances the unit has (logs, crashes).
import { maxInstancesOf, type UnitSpec } from "../runtime/unitSpec.ts"
import { InvalidRequest } from "./problems.ts"

export const impossibleInstance = (
  spec: UnitSpec | undefined,
  instance: number | undefined,
  path: ReadonlyArray<string>,
): InvalidRequest | undefined => {
  if (spec === undefined || instance === undefined) return undefined
  const max = maxInstancesOf(spec)
  if (instance < max) return undefined
  const message = `${spec.id} has ${max === 1 ? "one instance, 0" : `instances 0 to ${max - 1}`} (scaling.max_instances ${max}); found ${instance}`
  return new InvalidRequest({
    detail: `${path.at(-1)}: ${message}`,
    errors: [{ path: [...path], message }],
  })
}
