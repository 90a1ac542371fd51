// `GET /` on the control API's port: where a browser signs in. The login link
// `http://127.0.0.1:<port>/?token=…` (`sam start` and `sam dashboard` print it) turns a valid token
// into a session cookie (sessions.ts) and redirects to `/`, so the token leaves the address bar.
// With a session `/` and `/assets/*` are the dashboard (src/dashboard/serve.ts); without one, `/`
// is a token form and nothing of SAM's state, and assets are refused. The form POSTs its token to
// `/` (from SAM's own Origin only), so a token typed there, right or wrong, never enters the
// address bar or the history. Failed sign-ins count as unauthenticated refusals. A link the browser
// says it followed from another site (`Sec-Fetch-Site`) signs nothing in: a 403 (login CSRF).

import { Effect } from "effect"
import type { HttpServerRequest } from "effect/http"
import { HttpServerResponse } from "effect/http"
import type { AuditLog } from "../audit/auditLog.ts"
import type { DashboardAnswer, DashboardServer } from "../dashboard/serve.ts"
import type { Authenticator } from "./auth.ts"
import { mediaTypeOf } from "./mediaType.ts"
import { PROBLEM_JSON, problemBody } from "./problemBody.ts"
import { type SessionStore, sessionCookieName, sessionIds } from "./sessions.ts"

export interface BrowserLoginContext {
  readonly authenticator: Authenticator
  readonly sessions: SessionStore
  readonly audit: AuditLog | undefined
  /** The port the server listens on (names the cookie). */
  readonly port: () => number
  readonly version: string
}

/** The browser paths the front door answers itself, for the router's `Allow` index. */
export const browserRoutes = [
  { method: "GET", path: "/" },
  { method: "POST", path: "/" },
  { method: "GET", path: "/assets/*" },
] as const

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** No framing, no referrer (the login URL holds a token), nothing cached, fetch only to itself. */
const pageHeaders = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

/**
 * The form's page sends its origin, never its URL (which may hold a wrong token from a link):
 * with `no-referrer` a browser would send `Origin: null` with the form's POST, and SAM accepts
 * the POST only with its own Origin.
 */
const formHeaders = { ...pageHeaders, "referrer-policy": "strict-origin" }

const page = (title: string, body: string, status = 200) =>
  HttpServerResponse.text(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
      `<meta name="viewport" content="width=device-width"><style>body{font:16px system-ui,sans-serif;margin:3rem auto;max-width:36rem;padding:0 1rem}input{font:inherit;width:100%;margin:.5rem 0}</style></head>` +
      `<body>${body}</body></html>\n`,
    { status, contentType: "text/html; charset=utf-8", headers: formHeaders },
  )

const tokenForm = (problem: string | undefined, status: number) =>
  page(
    "SAM: sign in",
    `<h1>SAM</h1>${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ""}` +
      `<form method="post" action="/"><label>API token<input name="token" type="password" autocomplete="off" required></label>` +
      `<button type="submit">Sign in</button></form>` +
      "<p>Run <code>sam dashboard</code> on SAM's machine for a link that signs you in.</p>",
    status,
  )

/** Who the request's session cookies (any of them, sessions.ts) sign in, if anyone. */
const signedIn = (request: HttpServerRequest.HttpServerRequest, context: BrowserLoginContext) =>
  context.sessions.first(sessionIds(request.headers.cookie, context.port()))?.principal

const sourceOf = (request: HttpServerRequest.HttpServerRequest): string =>
  request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown"

/** The dashboard's answer as an Effect response (its own content type, caching and CSP). */
const dashboardResponse = (answer: DashboardAnswer): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, "content-length": _length, ...headers } = answer.headers
  return HttpServerResponse.uint8Array(answer.body, {
    status: answer.status,
    ...(contentType === undefined ? {} : { contentType }),
    headers,
  })
}

const pageProblem = (status: number, detail: string, extra: Record<string, unknown> = {}) =>
  HttpServerResponse.jsonUnsafe(problemBody(status, detail, extra), {
    status,
    contentType: PROBLEM_JSON,
    headers: pageHeaders,
  })

/**
 * Why the login link is refused for where it was opened from, or undefined. A browser says so in
 * `Sec-Fetch-Site`: a link followed from another site (or another port of this host: same-site)
 * would sign the browser into a session of that page's choosing (login CSRF). Typed or pasted
 * into the address bar it is `none`; clients without the header (curl, older browsers) pass.
 */
const linkRefusal = (request: HttpServerRequest.HttpServerRequest) => {
  const site = request.headers["sec-fetch-site"]
  const value = site?.trim().toLowerCase()
  if (value !== "cross-site" && value !== "same-site") return undefined
  return pageProblem(
    403,
    `the login link was opened from another site (Sec-Fetch-Site: ${site}): another page must not ` +
      "sign this browser in. Paste the link `sam dashboard` prints into the address bar, or sign in with the form at /",
    { type: "urn:sam:problem:cross-site" },
  )
}

/** A session for `token` and a 303 to `/` with its cookie, or the form again (401) for a wrong one. */
const signIn = (
  request: HttpServerRequest.HttpServerRequest,
  context: BrowserLoginContext,
  token: string,
): HttpServerResponse.HttpServerResponse => {
  const authentication = context.authenticator.authenticateToken(token)
  if (!authentication.ok) {
    context.audit?.refused(sourceOf(request))
    return tokenForm("That is not a token of this SAM.", 401)
  }
  const id = context.sessions.create(authentication.principal)
  const maxAge = Math.floor(context.sessions.lifetimeMs / 1000)
  return HttpServerResponse.redirect("/", {
    status: 303,
    headers: {
      ...pageHeaders,
      "set-cookie": `${sessionCookieName(context.port())}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`,
    },
  })
}

/**
 * `POST /` from the token form (`token=…`, form-encoded): as the login link, with the token in the
 * body. Only from SAM's own page (its Origin, which browsers send with every form POST), so no
 * other page can sign the browser in with a token of its choosing; undefined for any other request.
 */
export const formSignIn = (
  request: HttpServerRequest.HttpServerRequest,
  context: BrowserLoginContext,
): Effect.Effect<HttpServerResponse.HttpServerResponse> | undefined => {
  if (request.method !== "POST" || (request.url.split("?")[0] ?? "") !== "/") return undefined
  const problem = (status: number, detail: string, extra: Record<string, unknown> = {}) =>
    Effect.succeed(pageProblem(status, detail, extra))
  const host = request.headers.host
  const origin = request.headers.origin
  if (host === undefined || origin !== `http://${host}`)
    return problem(
      403,
      `sign in from SAM's own page (Origin http://${host ?? "<this server>"}), not ` +
        `${origin === undefined ? "a request without an Origin header" : `Origin ${origin}`}; ` +
        "other clients send `Authorization: Bearer <token>`",
      { type: "urn:sam:problem:cross-site" },
    )
  if (mediaTypeOf(request.headers["content-type"]) !== "application/x-www-form-urlencoded")
    return problem(415, "send the token form as application/x-www-form-urlencoded (token=…)")
  return request.text.pipe(
    Effect.map((body) => signIn(request, context, new URLSearchParams(body).get("token") ?? "")),
    Effect.catch(() => problem(400, "the form did not arrive whole; send it again")),
  )
}

/** The answer to a browser path, or undefined when `request` is for the API or someone else. */
export const browserAnswer = (
  request: HttpServerRequest.HttpServerRequest,
  context: BrowserLoginContext,
  dashboard: DashboardServer,
): HttpServerResponse.HttpServerResponse | undefined => {
  const [path, query = ""] = request.url.split("?", 2) as [string, string?]
  if (request.method !== "GET" && request.method !== "HEAD") return undefined
  if (path.startsWith("/assets/")) {
    if (signedIn(request, context) === undefined)
      return HttpServerResponse.jsonUnsafe(
        {
          type: "about:blank",
          title: "Unauthorized",
          status: 401,
          detail: "sign in first: open the link `sam dashboard` prints",
        },
        { status: 401, contentType: "application/problem+json" },
      )
    const answer = dashboard.answer({ method: request.method, url: path, headers: request.headers })
    return answer === undefined ? undefined : dashboardResponse(answer)
  }
  if (path !== "/") return undefined
  const token = new URLSearchParams(query).get("token")
  if (token !== null) return linkRefusal(request) ?? signIn(request, context, token)
  if (signedIn(request, context) === undefined) return tokenForm(undefined, 200)
  const answer = dashboard.answer({ method: request.method, url: "/", headers: request.headers })
  return answer === undefined ? undefined : dashboardResponse(answer)
}
