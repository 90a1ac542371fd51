// Browser sessions of the control API: signing in with a token (the login link
// `/?token=…`, browserLogin.ts) creates one, and its id travels in an HttpOnly, SameSite=Strict
// cookie, so pages can call the API with fetch and EventSource without holding the token. Given
// the runtime store's table (the daemon passes it) sessions survive a SAM restart; without one
// (library use) they live in memory. Either way bounded, each valid for a fixed lifetime, and only
// while the token it was made from is still the same token with the same role: a session signed in
// with a token since removed or changed (a config edit, a regenerated <state_dir>/token) is gone.
// middleware.ts authenticates with them; the Origin rule against cross-site requests is there.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { BrowserSessionRecord } from "../runtime/store/storeTypes.ts"
import type { ApiPrincipal } from "./auth.ts"
import { cookieValues } from "./cookieHeader.ts"
import type { Role } from "./schemas.ts"

/** What every SAM's session cookie is named by: `sam_session_<port>`. */
export const SESSION_COOKIE_PREFIX = "sam_session_"

/** Cookies are per host, not per port: two SAMs on 127.0.0.1 must not overwrite each other's. */
export const sessionCookieName = (port: number): string => `${SESSION_COOKIE_PREFIX}${port}`

/**
 * Whether `name` is a SAM session cookie, this SAM's or another's on the same host (a browser
 * sends every port's cookies to every port): the gateway never lets one reach or be set by a service.
 */
export const isSessionCookieName = (name: string): boolean => name.trim().startsWith(SESSION_COOKIE_PREFIX)

/**
 * Every value of this SAM's session cookie in a `Cookie` header, in order. A browser sends one per
 * cookie it holds under the name (set for other paths, or by another name of this host), so a
 * stale one may come before the valid one: each is tried, not only the first.
 */
export const sessionIds = (header: string | undefined, port: number): string[] =>
  cookieValues(header, sessionCookieName(port))

/** Where sessions are kept: the runtime store's `browser_sessions` table, or a Map (memoryTable). */
export interface SessionTable {
  insert(session: BrowserSessionRecord): void
  get(idDigest: string): BrowserSessionRecord | undefined
  remove(idDigest: string): void
  prune(now: number, keep: number): number
  count(): number
}

/** What a token name stands for now: its role and the SHA-256 digest of its value. */
export type CurrentCredential = (name: string) => { readonly role: Role; readonly digest: Buffer } | undefined

export interface SessionOptions {
  /** The tokens as they are now (Authenticator.credential): a session outlives no change of its token. */
  readonly credentials: CurrentCredential
  /** Where sessions are kept (default in memory: a restart signs everyone out). */
  readonly table?: SessionTable
  /** How long a session lasts from sign-in (default 12 hours). */
  readonly lifetimeMs?: number
  /** Sessions kept at most; the soonest to expire goes first (default 1000). */
  readonly limit?: number
  readonly now?: () => number
}

/** Stored by digest: the table never holds a usable id, and a lookup's timing says nothing of one. */
const digest = (id: string): string => createHash("sha256").update(id, "utf8").digest("hex")

/**
 * The session's tie to its credential, keyed by the session id: the store alone (state.db) says
 * nothing about the token, not even enough to test guesses of a short one offline.
 */
const binding = (id: string, role: Role, tokenDigest: Buffer): string =>
  createHmac("sha256", id).update(`${role}\0`).update(tokenDigest).digest("hex")

/** Sessions in a Map, for a server without a runtime store. */
export const memoryTable = (): SessionTable => {
  const rows = new Map<string, BrowserSessionRecord>()
  return {
    insert: (session) => {
      rows.set(session.idDigest, session)
    },
    get: (idDigest) => rows.get(idDigest),
    remove: (idDigest) => {
      rows.delete(idDigest)
    },
    prune: (now, keep) => {
      const before = rows.size
      for (const [key, row] of rows) if (row.expiresAt <= now) rows.delete(key)
      const byExpiry = [...rows.values()].sort((a, b) => a.expiresAt - b.expiresAt)
      for (const row of byExpiry.slice(0, Math.max(0, rows.size - keep))) rows.delete(row.idDigest)
      return before - rows.size
    },
    count: () => rows.size,
  }
}

export class SessionStore {
  readonly lifetimeMs: number
  private readonly limit: number
  private readonly now: () => number
  private readonly table: SessionTable
  private readonly credentials: CurrentCredential

  constructor(options: SessionOptions) {
    this.lifetimeMs = options.lifetimeMs ?? 12 * 60 * 60 * 1000
    this.limit = options.limit ?? 1000
    this.now = options.now ?? Date.now
    this.table = options.table ?? memoryTable()
    this.credentials = options.credentials
    // Whatever expired while SAM was down goes now, not at the next sign-in.
    this.table.prune(this.now(), this.limit)
  }

  /** A new session for `principal`; the returned id goes into the cookie and nowhere else. */
  create(principal: ApiPrincipal): string {
    const credential = this.credentials(principal.name)
    if (credential === undefined || credential.role !== principal.role)
      throw new Error(`no token "${principal.name}" with role ${principal.role} to sign a session in with`)
    const id = randomBytes(32).toString("base64url")
    const now = this.now()
    this.table.prune(now, this.limit - 1)
    this.table.insert({
      idDigest: digest(id),
      name: principal.name,
      role: principal.role,
      expiresAt: now + this.lifetimeMs,
      credential: binding(id, principal.role, credential.digest),
    })
    return id
  }

  /** Who the session `id` belongs to, while it lasts and its token is unchanged. */
  principal(id: string | undefined): ApiPrincipal | undefined {
    if (id === undefined || id === "") return undefined
    const key = digest(id)
    const session = this.table.get(key)
    if (session === undefined) return undefined
    const current = this.credentials(session.name)
    const stored = Buffer.from(session.credential, "hex")
    const expected =
      current === undefined ? undefined : Buffer.from(binding(id, current.role, current.digest), "hex")
    const valid =
      session.expiresAt > this.now() &&
      expected !== undefined &&
      stored.length === expected.length &&
      timingSafeEqual(stored, expected)
    if (!valid) {
      this.table.remove(key)
      return undefined
    }
    return { name: session.name, role: session.role }
  }

  /** The first of `ids` (a request's session cookies, sessionIds) that is a live session, with its principal. */
  first(ids: ReadonlyArray<string>): { readonly id: string; readonly principal: ApiPrincipal } | undefined {
    for (const id of ids) {
      const principal = this.principal(id)
      if (principal !== undefined) return { id, principal }
    }
    return undefined
  }

  /** End the session `id` (sign-out): its cookie authenticates nothing from now on. Whether there was one. */
  end(id: string | undefined): boolean {
    if (id === undefined || id === "" || this.principal(id) === undefined) return false
    this.table.remove(digest(id))
    return true
  }

  get size(): number {
    return this.table.count()
  }
}
