// `Expect: 100-continue` at the API server's front door (apiServer.ts, node:http's 'checkContinue'):
// a client holds its body back until `100 Continue`, so SAM sends that only to a request whose body
// it would read. One it refuses (a Host that is no loopback name, no credential or a wrong one, a
// session cookie from another origin, a declared length past the limit; for the gateway's paths
// its own auth and max_body_bytes) goes on without it, and gets its 421, 401, 403 or 413 before
// the client has sent any of the body.
import type { IncomingMessage } from "node:http"
import type { Gateway } from "../gateway/gateway.ts"
import { bearerToken } from "./auth.ts"
import { authenticateRequest, type CredentialContext } from "./requestCredential.ts"

export interface ContinueGateOptions {
  readonly credentials: CredentialContext
  /** The front door's Host rule (hostCheck.ts): why a Host is refused, or undefined. */
  readonly hostRefusal: (header: string | undefined) => string | undefined
  readonly gateway: Gateway | undefined
  /** The control API's body limit. */
  readonly maxBodyBytes: number
}

/** Whether a request that sent `Expect: 100-continue` is told to send its body. */
export const continueGate =
  (options: ContinueGateOptions) =>
  (req: IncomingMessage): boolean => {
    if (options.hostRefusal(req.headers.host) !== undefined) return false
    if (options.gateway?.claims(req.url)) return !options.gateway.refusesBody(req)
    if (Number(req.headers["content-length"] ?? 0) > options.maxBodyBytes) return false
    // The token form (`POST /`) is where a browser without a credential sends its token.
    if ((req.url ?? "/").split("?")[0] === "/") return true
    const bearer = bearerToken(req.headers.authorization) ?? ""
    const changes = req.method !== "GET" && req.method !== "HEAD"
    return authenticateRequest(options.credentials, req, bearer, changes).ok
  }
