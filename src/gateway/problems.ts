// The gateway's own answers (404 unknown service, 401/403, 429, 503 shed or breaker open, 502/504
// upstream failures) as application/problem+json, the same shape as the control API's problems.
import type { ServerResponse } from "node:http"
import { PROBLEM_JSON, problemBody } from "../api/problemBody.ts"

/** Answer `res` with a problem unless it has started answering already. */
export const sendProblem = (
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Readonly<Record<string, string>> = {},
): undefined => {
  if (res.headersSent || res.writableEnded || res.destroyed) return undefined
  const body = JSON.stringify(problemBody(status, detail))
  res.writeHead(status, {
    ...headers,
    "content-type": PROBLEM_JSON,
    "content-length": Buffer.byteLength(body),
  })
  res.end(body)
  return undefined
}

/** The 413's detail, naming the service and the key, as the 429's and 504's do. */
export const bodyTooLarge = (id: string, maxBodyBytes: number): string =>
  `the request body for "${id}" is larger than its limit of ${maxBodyBytes} bytes (gateway.max_body_bytes)`
