// The control API's two middleware: Authorization (bearer token or session cookie → principal,
// requestCredential.ts; role check against the endpoint's RequiredRole) and RequestValidation (a
// request that fails its schema becomes a 400 problem listing every issue). Refused mutating calls
// of an authenticated caller are recorded in the audit log one by one; unauthenticated refusals are
// counted per source and minute (AuditLog.refused), so a flood cannot fill the disk.
import { Context, Effect, Layer, Option, Redacted, SchemaIssue } from "effect"
import { HttpRouter, HttpServerRequest } from "effect/http"
import type { HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
import { HttpApiMiddleware } from "effect/http-api"
import type { AuditResult } from "../audit/auditEntry.ts"
import { ApiContext, type ApiContextShape, apiActor, auditNow } from "./apiContext.ts"
import { type ApiPrincipal, isLoopbackHost, roleAllows } from "./auth.ts"
import {
  AuditAsRequest,
  Authorization,
  Principal,
  PublicOnLoopback,
  RequestValidation,
  RequiredRole,
} from "./controlApi.ts"
import { CrossSiteRefused, Forbidden, InvalidRequest, Unauthorized } from "./problems.ts"
import { authenticateRequest } from "./requestCredential.ts"

const mutating = (endpoint: HttpApiEndpoint.Top) => endpoint.method !== "GET" && endpoint.method !== "HEAD"

const nouns: Record<string, string> = {
  agents: "agent",
  services: "service",
  capabilities: "capability",
  plugins: "config",
}

/** The request's method and path (without the query): how plugin routes are named. */
const requestLine = Effect.map(HttpServerRequest.HttpServerRequest, (request) => ({
  method: request.method,
  path: request.url.split("?")[0] ?? request.url,
}))

/**
 * Record a refused call to a mutating endpoint: `service.stop` on `db`, like the command itself;
 * `POST /api/plugins/x/y` on that path for a plugin route (AuditAsRequest).
 */
const auditRefusal = (
  context: ApiContextShape,
  group: HttpApiGroup.Top,
  endpoint: HttpApiEndpoint.Top,
  principal: ApiPrincipal | undefined,
  result: AuditResult,
  detail: string,
  /** A token's request refused for its role: past the first few a minute only counted (AuditLog.denied). */
  summed = false,
) =>
  mutating(endpoint)
    ? Effect.gen(function* () {
        const params = yield* HttpRouter.params
        const line = yield* requestLine
        const byRequest = Context.get(endpoint.annotations, AuditAsRequest)
        const record = {
          actor: principal ? apiActor(principal) : { name: "unauthenticated", via: "api" as const },
          action: byRequest
            ? `${line.method} ${line.path}`
            : `${nouns[group.identifier] ?? group.identifier}.${endpoint.identifier}`,
          target: byRequest ? line.path : (params.id ?? params.name ?? endpoint.path),
          result,
          detail,
        }
        if (summed && context.audit) {
          if (context.audit.denied(record))
            yield* Effect.promise(() => context.audit?.settled() ?? Promise.resolve())
          return
        }
        yield* Effect.promise(() => auditNow(context, record))
      })
    : Effect.void

/** Who a credential-less loopback client of a public endpoint is. */
const loopbackViewer: ApiPrincipal = { name: "loopback", role: "viewer" }

export const AuthorizationLive = Layer.effect(
  Authorization,
  Effect.gen(function* () {
    const context = yield* ApiContext
    return {
      bearer: (httpEffect, { credential, endpoint, group }) =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          // monitoring.metrics.public: a local Prometheus scrapes without a credential.
          if (context.monitoring?.settings.public && Context.get(endpoint.annotations, PublicOnLoopback)) {
            if (Option.isSome(request.remoteAddress) && isLoopbackHost(request.remoteAddress.value))
              return yield* Effect.provideService(httpEffect, Principal, loopbackViewer)
          }
          const authentication = authenticateRequest(
            context,
            request,
            Redacted.value(credential),
            mutating(endpoint),
          )
          if (!authentication.ok && authentication.reason === "cross-site") {
            yield* auditRefusal(
              context,
              group,
              endpoint,
              authentication.principal,
              "denied",
              authentication.detail,
            )
            return yield* new CrossSiteRefused({ detail: authentication.detail })
          }
          if (!authentication.ok) {
            context.audit?.refused(
              request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown",
            )
            return yield* new Unauthorized({ detail: authentication.detail })
          }
          const { principal } = authentication
          const required = Context.get(endpoint.annotations, RequiredRole)
          if (!roleAllows(principal.role, required)) {
            const line = Context.get(endpoint.annotations, AuditAsRequest)
              ? yield* requestLine
              : { method: endpoint.method, path: endpoint.path }
            const detail =
              `token "${principal.name}" has role ${principal.role}; ${line.method} ${line.path} ` +
              `needs ${required}: use a token with that role`
            yield* auditRefusal(context, group, endpoint, principal, "denied", detail, true)
            return yield* new Forbidden({ detail, role: principal.role, required_role: required })
          }
          return yield* Effect.provideService(httpEffect, Principal, principal)
        }),
    }
  }),
)

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const pathSegment = (segment: PropertyKey | { key: PropertyKey }): string | number => {
  const key = typeof segment === "object" ? segment.key : segment
  return typeof key === "number" ? key : String(key)
}

const describePath = (path: ReadonlyArray<string | number>) =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("")

export const RequestValidationLive = Layer.unwrap(
  Effect.gen(function* () {
    const context = yield* ApiContext
    return HttpApiMiddleware.layerSchemaErrorTransform(RequestValidation, (error, { endpoint, group }) =>
      Effect.gen(function* () {
        // A response that fails its own schema is SAM's bug, not the caller's: let it be a 500.
        if (error.kind === "Body" || error.kind === "ResponseHeaders") return yield* Effect.fail(error)
        const slot = error.kind.toLowerCase()
        const errors = formatIssues(error.cause.issue).issues.map((issue) => ({
          path: [slot, ...(issue.path ?? []).map(pathSegment)],
          message: issue.message,
        }))
        const first = errors[0]
        const detail =
          `invalid ${slot}` +
          (first ? `: ${describePath(first.path)}: ${first.message}` : "") +
          (errors.length > 1 ? ` (and ${errors.length - 1} more, see errors)` : "") +
          "; GET /api/openapi.json describes every request"
        const principal = yield* Effect.serviceOption(Principal)
        yield* auditRefusal(context, group, endpoint, Option.getOrUndefined(principal), "invalid", detail)
        return yield* new InvalidRequest({ detail, errors })
      }),
    )
  }),
)
