// Who may call a service through the gateway. A unit's SAM_GATEWAY_TOKEN is valid only for the
// services in its depends_on (403 otherwise), whatever the service's auth; with `auth: token`
// a request needs that or a control API token (401 without). `auth` defaults to none when the API
// binds loopback. The credential found also keys `rate_limit.key: token`.
import type { IncomingHttpHeaders } from "node:http"
import type { UnitTokens } from "../runtime/unitTokens.ts"
import type { RoutingTable, ServiceRoute } from "./routingTable.ts"

/** The control API's check of a bearer header (src/api/auth.ts Authenticator). */
export type ApiAuthenticate = (
  header: string | undefined,
) => { readonly ok: true; readonly principal: { readonly name: string } } | { readonly ok: false }

export type GatewayAuthorization =
  | { readonly ok: true; readonly credential: string | undefined }
  | { readonly ok: false; readonly status: 401 | 403; readonly detail: string }

export interface GatewayAuthOptions {
  readonly unitTokens: Pick<UnitTokens, "verify">
  readonly authenticate: ApiAuthenticate
  /** The API binds a loopback address (the default auth is then none). */
  readonly loopback: boolean
}

const bearer = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export const authorize = (
  route: ServiceRoute,
  headers: IncomingHttpHeaders,
  table: RoutingTable,
  options: GatewayAuthOptions,
): GatewayAuthorization => {
  const header = headers.authorization
  const token = bearer(header)
  if (token?.startsWith("samu_")) {
    const unit = options.unitTokens.verify(token)
    if (unit === undefined)
      return {
        ok: false,
        status: 401,
        detail:
          "the SAM_GATEWAY_TOKEN sent is not one this SAM issued (was SAM restarted? restart the caller)",
      }
    if (!table.dependsOn.get(unit)?.has(route.id))
      return {
        ok: false,
        status: 403,
        detail: `"${unit}" may not call "${route.id}" through the gateway: add "${route.id}" to its depends_on`,
      }
    return { ok: true, credential: `unit:${unit}` }
  }
  const mode = route.spec.auth ?? (options.loopback ? "none" : "token")
  if (mode === "none") return { ok: true, credential: token === undefined ? undefined : `token:${token}` }
  const authenticated = token !== undefined ? options.authenticate(header) : undefined
  if (authenticated?.ok) return { ok: true, credential: `api:${authenticated.principal.name}` }
  return {
    ok: false,
    status: 401,
    detail:
      token === undefined
        ? `"${route.id}" needs a credential (gateway.auth: token): send \`Authorization: Bearer <token>\` with a control API token or the caller's SAM_GATEWAY_TOKEN`
        : "the bearer token matches no control API token (security.api_tokens) and is no SAM_GATEWAY_TOKEN",
  }
}
