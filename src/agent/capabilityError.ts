// What `ctx.invoke` rejects with in every runtime: the call's failure as SAM's router told it
// (the library's CapabilityError, the API's problem), written without Effect so that loading the
// SDK loads nothing outside src/agent. SAM's side sends its fields in the `call-result` message.

/** Why a capability call failed: the reasons of `sam.invoke`'s CapabilityError and of the API. */
export type CapabilityErrorReason =
  | "not_found"
  | "unavailable"
  | "queue_full"
  | "timeout"
  | "cancelled"
  | "too_large"
  | "too_deep"
  | "failed"

export const capabilityErrorReasons: ReadonlyArray<CapabilityErrorReason> = [
  "not_found",
  "unavailable",
  "queue_full",
  "timeout",
  "cancelled",
  "too_large",
  "too_deep",
  "failed",
]

/** The fields of a failed call. */
export interface CapabilityFailure {
  readonly capability: string
  readonly reason: CapabilityErrorReason
  readonly message: string
  /** failed: the `code` of the error the handler threw, when it had a string one. */
  readonly code?: string | undefined
  /** The provider that served the call (an agent instance, `plugin:<name>`), when one was picked. */
  readonly agent?: string | undefined
}

/**
 * A capability called with `ctx.invoke` failed. Tagged like `sam.invoke`'s CapabilityError
 * (`_tag`, `name`, `capability`, `reason`, `code`), so a check of either reads the same.
 *
 * @example
 * try {
 *   await ctx.invoke("translate", { text })
 * } catch (error) {
 *   if (error instanceof CapabilityError && error.code === "E_QUOTA") return { later: true }
 *   throw error
 * }
 * @category agent
 */
export class CapabilityError extends Error {
  readonly _tag = "CapabilityError"
  override readonly name = "CapabilityError"
  readonly capability: string
  readonly reason: CapabilityErrorReason
  // Declared, not defined: a field SAM did not give is absent, not `undefined`.
  declare readonly code?: string | undefined
  declare readonly agent?: string | undefined
  constructor(failure: CapabilityFailure) {
    super(failure.message)
    this.capability = failure.capability
    this.reason = failure.reason
    if (failure.code !== undefined) this.code = failure.code
    if (failure.agent !== undefined) this.agent = failure.agent
  }
}

const isReason = (value: unknown): value is CapabilityErrorReason =>
  typeof value === "string" && (capabilityErrorReasons as ReadonlyArray<string>).includes(value)

/**
 * Whatever a call to `capability` failed with, as the SDK's CapabilityError: the router's own
 * (its fields kept), or anything else as `failed` with its message.
 */
export const asCapabilityError = (capability: string, error: unknown): CapabilityError => {
  if (error instanceof CapabilityError) return error
  const fields = (typeof error === "object" && error !== null ? error : {}) as Partial<
    Record<"reason" | "code" | "agent" | "capability", unknown>
  >
  return new CapabilityError({
    capability: typeof fields.capability === "string" ? fields.capability : capability,
    reason: isReason(fields.reason) ? fields.reason : "failed",
    message: error instanceof Error ? error.message : String(error),
    ...(typeof fields.code === "string" ? { code: fields.code } : {}),
    ...(typeof fields.agent === "string" ? { agent: fields.agent } : {}),
  })
}
