// Browser sessions of the control API: signing in with a token (the login link
// `/?token=…`, browserLogin.ts) creates one, and its id travels in an HttpOnly, SameSite=Strict
// cookie, so pages can call the API with fetch and EventSource without holding the token. Kept in
// memory only (a SAM restart signs everyone out), bounded, each valid for a fixed lifetime.
// middleware.ts authenticates with them; the Origin rule against cross-site requests is there.
import { createHash, randomBytes } from "node:crypto"
import type { ApiPrincipal } from "./auth.ts"

/** Cookies are per host, not per port: two SAMs on 127.0.0.1 must not overwrite each other's. */
export const sessionCookieName = (port: number): string => `sam_session_${port}`

export interface SessionOptions {
  /** How long a session lasts from sign-in (default 12 hours). */
  readonly lifetimeMs?: number
  /** Sessions kept at most; the oldest goes first (default 1000). */
  readonly limit?: number
  readonly now?: () => number
}

interface Session {
  readonly principal: ApiPrincipal
  readonly expiresAt: number
}

/** Stored by digest: the map never holds a usable id, and a lookup's timing says nothing of one. */
const digest = (id: string): string => createHash("sha256").update(id, "utf8").digest("hex")

export class SessionStore {
  readonly lifetimeMs: number
  private readonly limit: number
  private readonly now: () => number
  private readonly sessions = new Map<string, Session>()

  constructor(options: SessionOptions = {}) {
    this.lifetimeMs = options.lifetimeMs ?? 12 * 60 * 60 * 1000
    this.limit = options.limit ?? 1000
    this.now = options.now ?? Date.now
  }

  /** A new session for `principal`; the returned id goes into the cookie and nowhere else. */
  create(principal: ApiPrincipal): string {
    const id = randomBytes(32).toString("base64url")
    while (this.sessions.size >= this.limit) {
      const oldest = this.sessions.keys().next()
      if (oldest.done) break
      this.sessions.delete(oldest.value)
    }
    this.sessions.set(digest(id), { principal, expiresAt: this.now() + this.lifetimeMs })
    return id
  }

  /** Who the session `id` belongs to, while it lasts. */
  principal(id: string | undefined): ApiPrincipal | undefined {
    if (id === undefined || id === "") return undefined
    const key = digest(id)
    const session = this.sessions.get(key)
    if (session === undefined) return undefined
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(key)
      return undefined
    }
    return session.principal
  }

  get size(): number {
    return this.sessions.size
  }
}
