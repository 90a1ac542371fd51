// What an agent author writes: `export default defineAgent({ capabilities: { ... } })`. The same
// definition runs in every runtime (sandbox/process child, worker thread, inline in SAM); the
// host (agentHost.ts, or the inline driver) gives each handler its context.

/** The Standard Schema interface (zod, valibot, arktype, Effect's `Schema.toStandardSchemaV1`). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
      }>
    }

export interface AgentLogger {
  debug(message: string, ...details: unknown[]): void
  info(message: string, ...details: unknown[]): void
  warn(message: string, ...details: unknown[]): void
  error(message: string, ...details: unknown[]): void
}

export interface CallOptions {
  /** Deadline for this call (the called agent's own timeout_seconds still applies). */
  readonly timeoutMs?: number | undefined
  /** Aborts the call; pass `ctx.signal` to cancel it together with the current invocation. */
  readonly signal?: AbortSignal | undefined
}

/** Who the agent is, as SAM runs it. */
export interface AgentIdentity {
  readonly id: string
  readonly instance: number
  /** The only directory a `standard` sandbox may write. */
  readonly dataDir: string
  /** The agent's `persona` in the config (a system prompt, a role), undefined when it has none. */
  readonly persona: string | undefined
}

/** What setup/shutdown receive. */
export interface AgentContext<Config = Readonly<Record<string, unknown>>> {
  readonly agent: AgentIdentity
  readonly logger: AgentLogger
  /** The agent's own config section. */
  readonly config: Config
  /** Exactly the environment the agent's config declares (plus SAM_* variables). */
  readonly env: Readonly<Record<string, string | undefined>>
  /**
   * Call any capability through SAM (routed like `sam.invoke`); resolves with its output, rejects
   * with a CapabilityError (`reason`, `code`, `agent`), as `sam.invoke` does.
   */
  readonly invoke: (capability: string, input: unknown, options?: CallOptions) => Promise<unknown>
  /**
   * Call a capability and read its output as it comes: a streamed output chunk by chunk, a plain
   * value as one chunk. Leaving the loop early (`break`) cancels the call; the loop throws a
   * CapabilityError where `invoke` would reject. Nested like `invoke` (depth, deadline).
   */
  readonly invokeStream: (capability: string, input: unknown, options?: CallOptions) => AsyncIterable<unknown>
}

/** What a capability handler receives besides its input. */
export interface InvocationContext<Config = Readonly<Record<string, unknown>>> extends AgentContext<Config> {
  /** Aborted when the caller cancels, `timeout_seconds` passes, or the agent stops. */
  readonly signal: AbortSignal
  /** Correlation id of this invocation. */
  readonly invocationId: string
}

/** A value, a promise of one, or an async iterable whose items are streamed as chunks. */
export type HandlerResult<Output> = Output | Promise<Output> | AsyncIterable<Output>

/**
 * A capability's handler. Its input is `unknown` unless the handler annotates it (the author's
 * claim, which nothing checks: give the capability an input schema to have it checked) or a
 * definition's `input` schema types it. A method's type, so that a handler annotating its own input
 * fits a record of handlers of other inputs (method parameters are compared both ways).
 */
export type CapabilityHandler<Input = unknown, Output = unknown> = {
  handle(input: Input, ctx: InvocationContext): HandlerResult<Output>
}["handle"]

/** A handler with an input schema: the input is validated before the handler runs, and typed by it. */
export interface CapabilityDefinition<Input = unknown, Output = unknown> {
  readonly input?: StandardSchemaV1<unknown, Input> | undefined
  readonly description?: string | undefined
  readonly handler: CapabilityHandler<Input, Output>
}

export type Capability<Input = unknown> = CapabilityHandler<Input> | CapabilityDefinition<Input>

export interface HealthReport {
  readonly ok: boolean
  readonly detail?: string | undefined
}

export interface AgentDefinition<
  Capabilities extends Record<string, Capability> = Record<string, Capability>,
> {
  /** Capability name → handler. Only these are offered; config must declare each of them. */
  readonly capabilities: Capabilities
  /** Runs once before the agent reports ready; a throw fails the start with its message. */
  readonly setup?: ((ctx: AgentContext) => void | Promise<void>) | undefined
  /** Asked on every heartbeat; false (or ok: false) makes the agent unready until it recovers. */
  readonly health?: (() => boolean | HealthReport | Promise<boolean | HealthReport>) | undefined
  /** Runs on a graceful stop, before the process exits (bounded by the stop grace period). */
  readonly shutdown?: ((ctx: AgentContext) => void | Promise<void>) | undefined
}

/**
 * Define an agent. Identity at runtime; its job is the types: a capability with an `input`
 * schema gets the schema's output type as its handler's input, and a plain handler's input is
 * `unknown` unless it annotates it.
 *
 * @example
 * export default defineAgent({
 *   capabilities: {
 *     echo: (input: { text: string }) => ({ text: input.text }),
 *     shout: { input: ShoutInput, handler: (input) => input.text.toUpperCase() },
 *   },
 * })
 * @category agent
 */
export const defineAgent = <Inputs extends Record<string, unknown>>(
  definition: AgentDefinition<{ [Name in keyof Inputs]: Capability<Inputs[Name]> }>,
): AgentDefinition<{ [Name in keyof Inputs]: Capability<Inputs[Name]> }> => definition

/** The handler of a capability entry, whatever its form. */
export const handlerOf = (capability: Capability): CapabilityHandler =>
  typeof capability === "function" ? capability : capability.handler

/** The `description` of each capability that has one (a definition's, a non-empty string). */
export const descriptionsOf = (definition: AgentDefinition): Record<string, string> => {
  const descriptions: Record<string, string> = {}
  for (const [name, capability] of Object.entries(definition.capabilities)) {
    const description = typeof capability === "function" ? undefined : capability?.description
    if (typeof description === "string" && description !== "") descriptions[name] = description
  }
  return descriptions
}

/** Validate `input` against the capability's schema, if it has one. */
export const validateInput = async (capability: Capability, input: unknown): Promise<unknown> => {
  if (typeof capability === "function" || capability.input === undefined) return input
  const result = await capability.input["~standard"].validate(input)
  if (result.issues === undefined) return result.value
  const detail = result.issues
    .map((issue) => {
      const path = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".")
      return path ? `${path}: ${issue.message}` : issue.message
    })
    .join("; ")
  throw new InvalidInput(detail)
}

/**
 * A capability's input failed its schema; `detail` lists every issue. SAM reports it to the caller.
 * Tagged like a `Data.TaggedError` (`_tag`, `name`), written without Effect so that loading the
 * SDK loads nothing outside src/agent (test/package checks it).
 */
export class InvalidInput extends Error {
  readonly _tag = "InvalidInput"
  override readonly name = "InvalidInput"
  readonly code = "SAM_INVALID_INPUT"
  readonly detail: string
  constructor(detail: string) {
    super(`invalid input: ${detail}`)
    this.detail = detail
  }
}

/** Does `value` look like an agent definition (the module's default or `agent` export)? */
export const isAgentDefinition = (value: unknown): value is AgentDefinition =>
  typeof value === "object" &&
  value !== null &&
  "capabilities" in value &&
  typeof (value as { capabilities: unknown }).capabilities === "object" &&
  (value as { capabilities: unknown }).capabilities !== null
