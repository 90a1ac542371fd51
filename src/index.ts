// SAM's public API. Everything not exported here may change without notice.

// First: on an old Node, say so before anything it lacks fails (src/nodeVersion.ts).
import "./nodeVersion.ts"

// Runtime types surfaces and extensions see.
// (Each from a module of types, not the machines': a consumer's tsc then reads none of xstate's.)
export type { CommandName, ExitInfo, LifecycleState } from "./actors/lifecycleTypes.ts"
// Agent authors: the SDK agent modules import (also "sam/agent", which loads no runtime).
export * from "./agent/index.ts"
// Embedding: create, start and stop SAM from a Node app or an Effect program.
export { type ConfiguredSam, type CreateSamOptions, createSam } from "./app/createSam.ts"
export { SamService, samLayer } from "./app/samLayer.ts"
// Config: type your sam.config.ts, load and validate configs.
export { defineConfig } from "./config/defineConfig.ts"
export { ConfigError, type LoadedConfig, loadConfig, validateConfigObject } from "./config/load.ts"
export type {
  AgentConfig,
  AgentConfigInput,
  SamConfig,
  SamConfigInput,
  ServiceConfig,
  ServiceConfigInput,
} from "./config/schema.ts"
// Plugin authors: definePlugin and the plugin host.
export * from "./plugins/index.ts"
export type { CapabilityProvider, InvokeOptions, InvokeResult } from "./runtime/capabilities/capability.ts"
export { CapabilityError } from "./runtime/capabilities/capabilityRouter.ts"
export { type ConfigReloader, configReloaderFor } from "./runtime/configReload.ts"
export type { Driver, DriverContext, InstanceHandle } from "./runtime/drivers/driver.ts"
export type { SamEvent } from "./runtime/eventBus.ts"
export type { ProbeFn, ProbeResult, ProbeTarget } from "./runtime/health/probe.ts"
export { Sam, type SamOptions, type SamStatus, type UnitCommands } from "./runtime/sam.ts"
export { StateDirInUse, StateDirLockFailed } from "./runtime/store/stateDirLock.ts"
export { CommandRefused } from "./runtime/supervisor/commandEvent.ts"
export {
  SamStopping,
  ScaleRefused,
  type StartReport,
  UnitNotFound,
} from "./runtime/supervisor/contracts.ts"
export type { InstanceStatus } from "./runtime/supervisor/instanceStatus.ts"
export type { UnitStatus } from "./runtime/supervisor/unitStatus.ts"
export type { UnitSpec } from "./runtime/unitSpec.ts"
