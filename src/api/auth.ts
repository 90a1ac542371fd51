// Who may call the control API: bearer tokens from `security.api_tokens` with roles viewer (read),
// operator (lifecycle commands, invoke) and admin (everything). Tokens are compared as SHA-256
// digests with timingSafeEqual against every configured token, so timing reveals neither which
// token nor how much of it matched. With no tokens the API is open, and only on loopback.
import { createHash, timingSafeEqual } from "node:crypto"
import { isIP } from "node:net"
import type { Role } from "./schemas.ts"

export interface ApiTokenConfig {
  readonly token: string
  readonly role: Role
}

export interface ApiPrincipal {
  /** The token's name in security.api_tokens ("anonymous" when the API is open). */
  readonly name: string
  readonly role: Role
}

export type Authentication =
  | { readonly ok: true; readonly principal: ApiPrincipal }
  | { readonly ok: false; readonly detail: string }

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 }

/** Whether `role` may do what `required` allows. */
export const roleAllows = (role: Role, required: Role): boolean => rank[role] >= rank[required]

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

export const anonymous: ApiPrincipal = { name: "anonymous", role: "admin" }

export class Authenticator {
  private readonly tokens: ReadonlyArray<{
    readonly name: string
    readonly role: Role
    readonly digest: Buffer
  }>

  constructor(tokens: Readonly<Record<string, ApiTokenConfig>> = {}) {
    this.tokens = Object.entries(tokens)
      // An empty token would let "Authorization: Bearer " in; config validation should catch it.
      .filter(([, t]) => t.token.length > 0)
      .map(([name, t]) => ({ name, role: t.role, digest: digest(t.token) }))
  }

  /** No tokens configured: every caller is admin (the server only binds loopback then). */
  get open(): boolean {
    return this.tokens.length === 0
  }

  /** Authenticate an `Authorization` header value (or a bare token). */
  authenticate(header: string | undefined): Authentication {
    if (this.open) return { ok: true, principal: anonymous }
    const token = bearerToken(header)
    if (token === undefined)
      return {
        ok: false,
        detail:
          "this SAM requires a bearer token: send `Authorization: Bearer <token>` (the CLI reads SAM_TOKEN)",
      }
    return this.authenticateToken(token)
  }

  authenticateToken(token: string): Authentication {
    const presented = digest(token)
    let found: { name: string; role: Role } | undefined
    for (const candidate of this.tokens) {
      // No early exit: every configured token is compared on every request.
      if (timingSafeEqual(candidate.digest, presented) && found === undefined) found = candidate
    }
    return found
      ? { ok: true, principal: { name: found.name, role: found.role } }
      : { ok: false, detail: "the bearer token matches none in security.api_tokens: check SAM_TOKEN" }
  }
}

/** The token of `Bearer <token>` (scheme case-insensitive); undefined for anything else. */
export const bearerToken = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/** 127.0.0.0/8, ::1 and localhost. */
export const isLoopbackHost = (host: string): boolean => {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase()
  if (bare === "localhost") return true
  if (isIP(bare) === 4) return bare.startsWith("127.")
  if (isIP(bare) === 6) return bare === "::1" || bare === "0:0:0:0:0:0:0:1" || bare.startsWith("::ffff:127.")
  return false
}

/** Why binding `host` is refused (an open API on a non-loopback address), or undefined. */
export const bindRefusal = (host: string, authenticator: Authenticator): string | undefined =>
  authenticator.open && !isLoopbackHost(host)
    ? `refusing to serve the control API on ${host}: no API tokens are configured, so anyone who can reach ` +
      `it could control SAM. Add tokens under security.api_tokens (e.g. admin: { token: "\${env.SAM_ADMIN_TOKEN}", ` +
      `role: "admin" }) or bind 127.0.0.1 (api.host).`
    : undefined
