// Who may call the control API: bearer tokens from `security.api_tokens` with roles viewer (read),
// operator (lifecycle commands, invoke) and admin (everything); with none configured, the local
// admin token of localToken.ts. There is no open API: every request but GET /api/openapi.json
// needs a credential. Tokens are compared as SHA-256 digests with timingSafeEqual against every
// token, so timing reveals neither which token nor how much of it matched.
import { createHash, timingSafeEqual } from "node:crypto"
import { isIP } from "node:net"
import { MIN_API_TOKEN_LENGTH } from "../config/constants.ts"
import type { Role } from "./schemas.ts"

export interface ApiTokenConfig {
  readonly token: string
  readonly role: Role
}

export interface ApiPrincipal {
  /** The token's name in security.api_tokens ("local" for the local admin token). */
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

const digested = (tokens: Readonly<Record<string, ApiTokenConfig>>) =>
  Object.entries(tokens).map(([name, t]) => ({ name, role: t.role, digest: digest(t.token) }))

export class Authenticator {
  private tokens: ReadonlyArray<{ readonly name: string; readonly role: Role; readonly digest: Buffer }>

  constructor(tokens: Readonly<Record<string, ApiTokenConfig>>) {
    this.tokens = digested(tokens)
  }

  /**
   * Accept these tokens from now on, and no others (a config reload of security.api_tokens): a
   * browser session signed in with a token that changed or went away fails its next check.
   */
  replace(tokens: Readonly<Record<string, ApiTokenConfig>>): void {
    this.tokens = digested(tokens)
  }

  /** The role and value digest of the token `name` (browser sessions check theirs is unchanged). */
  credential(name: string): { readonly role: Role; readonly digest: Buffer } | undefined {
    const found = this.tokens.find((t) => t.name === name)
    return found === undefined ? undefined : { role: found.role, digest: found.digest }
  }

  /** How many tokens are accepted (startApiServer refuses to serve with none). */
  get size(): number {
    return this.tokens.length
  }

  /** Authenticate an `Authorization` header value. */
  authenticate(header: string | undefined): Authentication {
    const token = bearerToken(header)
    if (token === undefined) return { ok: false, detail: missingCredential }
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
      : {
          ok: false,
          detail:
            "the bearer token matches none of this SAM's tokens: check SAM_TOKEN (or the local token in <state_dir>/token)",
        }
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

/** What a request without any credential is told. */
export const missingCredential =
  "this SAM requires a credential: send `Authorization: Bearer <token>` (the CLI reads SAM_TOKEN, " +
  "else the local token in <state_dir>/token), or sign in with the link `sam dashboard` prints"

/** Tokens too short to be unguessable, as one message each (they are never served). */
export const weakTokens = (tokens: Readonly<Record<string, ApiTokenConfig>>): ReadonlyArray<string> =>
  Object.entries(tokens)
    .filter(([, t]) => t.token.length < MIN_API_TOKEN_LENGTH)
    .map(
      ([name, t]) =>
        `the token "${name}" is ${t.token.length} characters long; API tokens need at least ${MIN_API_TOKEN_LENGTH}`,
    )

/**
 * Why binding `host` is refused, or undefined: off loopback, only configured tokens may be used
 * (the local token is for callers on this machine; anyone on the network would face it alone).
 */
export const bindRefusal = (host: string, configuredTokens: number): string | undefined =>
  configuredTokens === 0 && !isLoopbackHost(host)
    ? `refusing to serve the control API on ${host}: no API tokens are configured, and the local token ` +
      `(<state_dir>/token) is for callers on this machine. Add tokens under security.api_tokens ` +
      `(e.g. admin: { token: "\${env.SAM_ADMIN_TOKEN}", role: "admin" }) or bind 127.0.0.1 (api.host).`
    : undefined
