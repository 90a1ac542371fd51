// A plugin's gateway route served in process: `handler(req, res)` answers with `res`, as a
// node:http handler does. What a plain handler can get wrong is answered instead of left hanging:
// a throw is a 500, a returned value (the control API's `api.get` style) a 500 that says how to
// answer, and a response not begun within the bound a 504. Once the handler has sent its headers
// the response is its own (a stream may run for hours).
import type { IncomingMessage, ServerResponse } from "node:http"
import type { GatewayRoute } from "../plugins/gatewayRegistry.ts"
import { sendProblem } from "./problems.ts"

/** How long a handler may take to begin its answer (the control API's whole-request bound). */
export const inProcessAnswerMs = 30_000

export const answerInProcess = (
  req: IncomingMessage,
  res: ServerResponse,
  route: GatewayRoute & { readonly owner: string },
  report: (message: string) => void,
  boundMs = inProcessAnswerMs,
): void => {
  const handler = route.handler
  if (handler === undefined) return
  const name = `the gateway route ${route.prefix} of plugin "${route.owner}"`
  const begun = () => res.headersSent || res.writableEnded || res.destroyed
  const timer = setTimeout(() => {
    if (begun()) return
    report(`${name} did not answer ${req.method} ${req.url} within ${boundMs / 1000}s`)
    sendProblem(res, 504, `${name} did not answer within ${boundMs / 1000}s`)
  }, boundMs)
  timer.unref()
  res.once("close", () => clearTimeout(timer))
  Promise.resolve()
    .then(() => handler(req, res))
    .then(
      (returned: unknown) => {
        if (returned === undefined || begun()) return
        clearTimeout(timer)
        report(`${name} returned a value instead of answering with res`)
        sendProblem(
          res,
          500,
          `${name} returned a value instead of answering: a gateway handler is (req, res) => void and answers with res (res.writeHead(200).end(body))`,
        )
      },
      (error: unknown) => {
        clearTimeout(timer)
        report(`${name} threw: ${String(error)}`)
        sendProblem(res, 500, `${name} failed`)
      },
    )
}
