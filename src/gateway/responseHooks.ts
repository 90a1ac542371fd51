// Plugins' `onResponse` hooks on the gateway's answers. The hot path streams; only while some
// plugin registered an onResponse hook does the gateway hold an answer whole, give it to the
// chain (status, headers, body as the service sent it) and send what the chain returns. Answers
// that cannot be held pass through unhooked: event streams, bodies over maxHookedBodyBytes (by
// their content-length, or once that much has arrived) and WebSocket upgrades.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from "node:http"
import type { GatewayResponse } from "../plugins/gatewayRegistry.ts"
import { sendProblem } from "./problems.ts"

/** The largest answer the gateway holds for onResponse hooks (1 MiB). */
export const maxHookedBodyBytes = 1024 * 1024

/** The onResponse chain for one request, bound by the gateway. */
export type ResponseHooks = (response: GatewayResponse) => Promise<GatewayResponse>

/** Whether an answer with these upstream headers is held for the hooks. */
export const holdable = (headers: IncomingHttpHeaders): boolean => {
  const type = headers["content-type"]
  if (typeof type === "string" && type.toLowerCase().startsWith("text/event-stream")) return false
  const length = headers["content-length"]
  return length === undefined || Number(length) <= maxHookedBodyBytes
}

/** Node's outgoing headers as the hooks see them (numbers as text, lists kept). */
export const hookHeaders = (headers: OutgoingHttpHeaders): Record<string, string | ReadonlyArray<string>> => {
  const out: Record<string, string | ReadonlyArray<string>> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}

/**
 * Send what the chain answered. The body may have changed: content-length is its length, and the
 * original's transfer-encoding is dropped (a HEAD answer, which has no body, keeps its
 * content-length). A header Node refuses makes it a 502.
 */
export const sendGatewayResponse = (res: ServerResponse, answer: GatewayResponse, head: boolean): void => {
  if (res.destroyed || res.headersSent) return
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    const key = name.toLowerCase()
    if (key === "transfer-encoding" || (key === "content-length" && !head)) continue
    headers[key] = typeof value === "string" ? value : [...value]
  }
  // 204 and 304 carry no body and no content-length (RFC 9110).
  const bodyless = head || answer.status === 204 || answer.status === 304
  if (!bodyless) {
    const body = answer.body ?? ""
    headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength
  }
  try {
    res.writeHead(answer.status, headers)
  } catch (error) {
    // A header node:http will not send (a value with control characters).
    sendProblem(res, 502, `a gateway hook's answer cannot be sent: ${(error as Error).message}`)
    return
  }
  res.end(bodyless ? undefined : answer.body)
}

/**
 * Give `original` to the chain and send its answer (the original when the chain throws: a
 * plugin's log says why); resolves with the status sent.
 */
export const answerThroughHooks = (
  res: ServerResponse,
  hooks: ResponseHooks,
  original: GatewayResponse,
  head: boolean,
): Promise<number> =>
  hooks(original)
    .catch(() => original)
    .then((answer) => {
      sendGatewayResponse(res, answer, head)
      return answer.status
    })
