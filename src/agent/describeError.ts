// How an agent describes a failure to SAM: the message, Node's error code, and for a sandbox
// refusal (ERR_ACCESS_DENIED) the permission and resource Node names. No imports beyond node:
// childMain.ts uses it to report a failure to load the SDK itself.
import { format } from "node:util"

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : format("%o", error)

export const errorCode = (error: unknown): { code?: string } => {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === "string" ? { code } : {}
}

/** The message; for a permission-model refusal what was refused: `FileSystemRead /etc/passwd`. */
export const describeError = (error: unknown): string => {
  const { permission, resource } = (error ?? {}) as { permission?: unknown; resource?: unknown }
  const message = errorMessage(error)
  if (typeof permission !== "string") return message
  const refused = `${permission}${typeof resource === "string" ? ` ${resource}` : ""}`
  // Node's own text only names the --allow-* flag that would grant it, which an agent cannot pass.
  return message.startsWith("Access to this API has been restricted") ? refused : `${message} (${refused})`
}

/**
 * A failed invocation, in the agent's own log (`sam logs <agent>`) as well as the caller's
 * answer: the stack of a handler that threw, one line for input its schema refused.
 */
export const logInvocationFailure = (
  logger: {
    warn(message: string, ...details: unknown[]): void
    error(message: string, ...details: unknown[]): void
  },
  capability: string,
  error: unknown,
): void => {
  if (errorCode(error).code === "SAM_INVALID_INPUT")
    logger.warn(`capability "${capability}": ${errorMessage(error)}`)
  else logger.error(`capability "${capability}" failed:`, error)
}
