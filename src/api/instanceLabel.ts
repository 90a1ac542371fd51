// How the CLI and the dashboard name an instance, as SAM itself does (`Sam.instanceName`, unitSpec.ts
// `instanceKey`): by its unit's id when the unit can only ever run one, else `web#0`, `web#1`,
// so `sam logs`, `sam events`, `sam crashes` and `sam ps` rows agree.

/** Whether a unit (an API unit view) may run more than one instance. */
export const runsSeveral = (unit: {
  readonly instances: number
  readonly max_instances?: number | null | undefined
  readonly per_instance?: ReadonlyArray<unknown> | undefined
}): boolean => Math.max(unit.instances, unit.max_instances ?? 1, unit.per_instance?.length ?? 1) > 1

/** Instance `instance` of `unit`; `several`: the unit may run more than one. */
export const instanceLabel = (unit: string, instance: number, several: boolean): string =>
  several || instance > 0 ? `${unit}#${instance}` : unit
