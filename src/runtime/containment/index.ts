// Containment: every process a unit starts belongs to a cell SAM can list, measure and kill as a
// whole, and nothing outlives SAM. What the rest of SAM imports; docs/CONTAINMENT.md explains it.
export { type DetectOptions, detectContainment } from "./detectContainment.ts"
export { type Reaper, type SweepReport, startReaper, sweepLeftovers } from "./reaper.ts"
export type {
  Cell,
  CellChange,
  Containment,
  ContainmentInfo,
  ContainmentMode,
  ContainmentRecord,
  WrappedCommand,
} from "./types.ts"
export { ContainmentError, ContainmentUnavailable } from "./types.ts"
export { findExecutable } from "./wrapper.ts"
