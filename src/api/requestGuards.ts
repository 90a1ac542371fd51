// What every request must pass before it is routed, whatever route it is for (the control API's
// own or a plugin's): a path in valid percent-encoding (else 400, never a 404 or a 500), and a
// body that declares its length (411) within the one body limit (413), checked before it is read.
import type { Headers, HttpServerResponse } from "effect/http"
import { problemResponse } from "./problems.ts"

export interface GuardedRequest {
  readonly url: string
  readonly headers: Headers.Headers
}

/** Why `request` is refused before routing, as the problem to answer; undefined to go on. */
export const requestRefusal = (
  request: GuardedRequest,
  maxBodyBytes: number,
): HttpServerResponse.HttpServerResponse | undefined => {
  const path = request.url.split("?")[0] ?? request.url
  try {
    decodeURI(path)
  } catch {
    return problemResponse(
      400,
      `the request path ${JSON.stringify(path.slice(0, 200))} is not valid percent-encoding; ` +
        'escape "%" as %25 and non-ASCII characters as their UTF-8 bytes',
    )
  }
  const length = request.headers["content-length"]
  if (length === undefined)
    return request.headers["transfer-encoding"] === undefined
      ? undefined
      : problemResponse(411, "send the request body with a Content-Length header", { connection: "close" })
  if (Number(length) > maxBodyBytes)
    return problemResponse(413, `the request body is larger than the limit of ${maxBodyBytes} bytes`, {
      connection: "close",
    })
  return undefined
}
