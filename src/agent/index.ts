// The agent SDK: what agent modules import. Kept free of SAM's runtime so that a sandboxed agent
// only needs to read src/agent (and `effect`) to load it.
export type { CapabilityErrorReason, CapabilityFailure } from "./capabilityError.ts"
export { CapabilityError } from "./capabilityError.ts"
export type {
  AgentContext,
  AgentDefinition,
  AgentIdentity,
  AgentLogger,
  CallOptions,
  Capability,
  CapabilityDefinition,
  CapabilityHandler,
  HandlerResult,
  HealthReport,
  InvocationContext,
  StandardResult,
  StandardSchemaV1,
} from "./defineAgent.ts"
export { defineAgent, InvalidInput } from "./defineAgent.ts"
export type { FromAgent, LogLevel, ToAgent } from "./protocol.ts"
