// Who is acting, carried along an async call chain: the API runs a lifecycle command inside
// `actingAs(principal, ...)`, and the audit hook on Sam reads it when the command completes.
// Calls made without one (a Node app embedding SAM) are recorded as the embedding library.
import { AsyncLocalStorage } from "node:async_hooks"
import type { AuditActor } from "./auditEntry.ts"

const current = new AsyncLocalStorage<AuditActor>()

export const embeddingActor: AuditActor = { name: "embedding", via: "library" }

/** Run `fn` (and everything it awaits) as `actor`. */
export const actingAs = <A>(actor: AuditActor, fn: () => A): A => current.run(actor, fn)

/** The actor of the current call chain, or the embedding library. */
export const currentActor = (): AuditActor => current.getStore() ?? embeddingActor
