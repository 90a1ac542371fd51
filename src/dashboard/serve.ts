// Serves the dashboard on the control API's port: `GET /` is the page (index.html, revalidated
// each load) and `GET /assets/*` its hashed, immutable files, sent precompressed (brotli, else
// gzip) when the browser takes it. The front door calls this only for a signed-in browser (a
// session); the token form for the others is browserLogin.ts's. Plain Node, no Effect, and none
// of the UI's code: the built files are bytes to it (dashboardAssets.ts).
import type { IncomingMessage, ServerResponse } from "node:http"
import { type DashboardAssets, type DashboardFile, loadDashboardAssets } from "./dashboardAssets.ts"

/** What to answer: status, headers and body (empty for HEAD and 304). */
export interface DashboardAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** The parts of a request the dashboard looks at (node:http's and Effect's requests both have them). */
export interface DashboardRequest {
  readonly method: string
  readonly url: string
  readonly headers: { readonly [name: string]: string | ReadonlyArray<string> | undefined }
}

/**
 * The page's policy: its own scripts and styles only, API calls to itself only, no framing, no
 * referrer (a login link holds a token).
 */
export const dashboardPageHeaders: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
}

const immutable = "public, max-age=31536000, immutable"

/** Whether `url` is one of the dashboard's: `/` or `/assets/...` (with or without a query). */
export const isDashboardPath = (url: string): boolean => {
  const path = url.split("?", 1)[0] ?? url
  return path === "/" || path === "/index.html" || path.startsWith("/assets/")
}

const header = (request: DashboardRequest, name: string): string => {
  const value = request.headers[name]
  return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : ""
}

/** The encodings the browser accepts (q > 0), from Accept-Encoding. */
const accepted = (acceptEncoding: string): Set<string> => {
  const names = new Set<string>()
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name = "", ...params] = part.trim().split(";")
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="))
    if (name !== "" && (q === undefined || Number(q.slice(2)) > 0)) names.add(name.trim())
  }
  return names
}

const problem = (status: number, detail: string): DashboardAnswer => ({
  status,
  headers: { "content-type": "application/problem+json", "cache-control": "no-store" },
  body: new TextEncoder().encode(
    JSON.stringify({
      type: "about:blank",
      title: status === 404 ? "Not Found" : "Unavailable",
      status,
      detail,
    }),
  ),
})

const fileAnswer = (request: DashboardRequest, file: DashboardFile, page: boolean): DashboardAnswer => {
  const encodings = accepted(header(request, "accept-encoding"))
  const [encoding, body] =
    file.br && encodings.has("br")
      ? (["br", file.br] as const)
      : file.gzip && encodings.has("gzip")
        ? (["gzip", file.gzip] as const)
        : ([undefined, file.identity] as const)
  const headers: Record<string, string> = {
    "content-type": file.contentType,
    "cache-control": page ? "no-cache" : immutable,
    etag: file.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
    ...(page ? dashboardPageHeaders : {}),
    ...(encoding === undefined ? {} : { "content-encoding": encoding }),
  }
  const empty = new Uint8Array(0)
  if (header(request, "if-none-match") === file.etag) return { status: 304, headers, body: empty }
  headers["content-length"] = String(body.length)
  return { status: 200, headers, body: request.method === "HEAD" ? empty : body }
}

export interface DashboardServer {
  /** The answer to `request`, or undefined when it is not one of the dashboard's paths. */
  answer(request: DashboardRequest): DashboardAnswer | undefined
  /** node:http: answer `req` on `res` and return true, or return false (not the dashboard's). */
  serve(req: IncomingMessage, res: ServerResponse): boolean
}

/** A dashboard server over the built assets (read once, from `dir` or where the build puts them). */
export const dashboardServer = (options: { readonly dir?: string } = {}): DashboardServer => {
  let assets: DashboardAssets | undefined
  const load = () => {
    assets ??= loadDashboardAssets(options.dir)
    return assets
  }
  const answer = (request: DashboardRequest): DashboardAnswer | undefined => {
    if (!isDashboardPath(request.url) || (request.method !== "GET" && request.method !== "HEAD"))
      return undefined
    const built = load()
    if (built === undefined)
      return problem(
        503,
        "the dashboard is not built: run `npm run build` in SAM's checkout (the package ships it built)",
      )
    const path = request.url.split("?", 1)[0] ?? "/"
    const page = path === "/" || path === "/index.html"
    const file = built.files.get(page ? "/index.html" : path)
    if (file === undefined)
      return problem(404, `no dashboard file ${path} (SAM was updated since the page loaded? reload it)`)
    return fileAnswer(request, file, page)
  }
  return {
    answer,
    serve: (req, res) => {
      const found = answer({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers })
      if (found === undefined) return false
      res.writeHead(found.status, found.headers).end(found.body)
      return true
    },
  }
}
