// Which credential a request carries and whom it authenticates: a bearer token (any client), else
// a browser session's cookie (sessions.ts). A cookie is sent by the browser on its own, so a
// change made with one must come from SAM's own page: its Origin must be this server's (the CSRF
// rule: SameSite=Strict keeps other sites out, but another port of 127.0.0.1 is the same *site*),
// and no request from an opaque origin (`Origin: null`) may use it at all.
import { type ApiPrincipal, type Authenticator, bearerToken, missingCredential } from "./auth.ts"
import { type SessionStore, sessionIds } from "./sessions.ts"

export type RequestAuthentication =
  | { readonly ok: true; readonly principal: ApiPrincipal; readonly via: "token" | "session" }
  /** No credential, or one that matches nothing: 401, counted as an unauthenticated refusal. */
  | { readonly ok: false; readonly reason: "unauthenticated"; readonly detail: string }
  /** A valid session used for a change from another origin: 403, recorded as that principal's. */
  | {
      readonly ok: false
      readonly reason: "cross-site"
      readonly detail: string
      readonly principal: ApiPrincipal
    }

export interface CredentialContext {
  readonly authenticator: Authenticator
  readonly sessions: SessionStore
  /** The bound port (names the session cookie). */
  readonly port: () => number
}

/**
 * The headers a credential is judged by: an Effect request's, or node:http's before the request is
 * handed on (apiServer.ts answers `Expect: 100-continue` with them).
 */
export interface CredentialRequest {
  readonly headers: { readonly [name: string]: string | ReadonlyArray<string> | undefined }
}

/** A header sent once (Host, Origin, Cookie and Authorization are: node:http joins Cookie lines). */
const header = (request: CredentialRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return typeof value === "string" ? value : undefined
}

/** The origin a page served by this server has, as the browser writes it in `Origin`. */
const ownOrigin = (request: CredentialRequest): string | undefined => {
  const host = header(request, "host")
  return host === undefined ? undefined : `http://${host}`
}

/**
 * Authenticate `request`: `bearer` is the token of its Authorization header ("" when it has none);
 * `changes` says whether the endpoint changes anything (every method but GET and HEAD).
 */
export const authenticateRequest = (
  context: CredentialContext,
  request: CredentialRequest,
  bearer: string,
  changes: boolean,
): RequestAuthentication => {
  if (bearer !== "") {
    const byToken = context.authenticator.authenticateToken(bearer)
    return byToken.ok
      ? { ok: true, principal: byToken.principal, via: "token" }
      : { ok: false, reason: "unauthenticated", detail: byToken.detail }
  }
  const ids = sessionIds(header(request, "cookie"), context.port())
  const principal = context.sessions.first(ids)?.principal
  if (principal === undefined)
    return {
      ok: false,
      reason: "unauthenticated",
      detail:
        ids.length === 0
          ? missingCredential
          : "the session cookie is not valid (expired, or the token it was signed in with changed): sign in again with the link `sam dashboard` prints",
    }
  const origin = header(request, "origin")
  // An opaque origin (a sandboxed document: a service's page through the gateway, or a redirect
  // across origins) is never SAM's own page, for a read either.
  if (origin === "null")
    return {
      ok: false,
      reason: "cross-site",
      principal,
      detail:
        "a request authenticated by a session cookie came from a page with an opaque origin (Origin: null: " +
        "a sandboxed page, such as a service's page through the gateway); only SAM's own pages may use the session, " +
        "other clients send `Authorization: Bearer <token>`",
    }
  if (changes) {
    const expected = ownOrigin(request)
    if (origin === undefined || origin !== expected)
      return {
        ok: false,
        reason: "cross-site",
        principal,
        detail:
          `a change authenticated by a session cookie must come from SAM's own pages (Origin ${expected ?? "of this server"}), ` +
          `not ${origin === undefined ? "a request without an Origin header" : `Origin ${origin}`}; ` +
          "other clients send `Authorization: Bearer <token>`",
      }
  }
  return { ok: true, principal, via: "session" }
}

/**
 * For a stream that outlives its request: whether the credential `request` came with still
 * authenticates (a session that expired or a token a reload changed no longer does).
 */
export const credentialStillValid =
  (context: CredentialContext, request: CredentialRequest) => (): boolean => {
    const bearer = bearerToken(header(request, "authorization")) ?? ""
    return authenticateRequest(context, request, bearer, false).ok
  }
