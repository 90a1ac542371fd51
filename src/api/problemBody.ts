// The body of an RFC 9457 problem SAM writes outside the HttpApi (limits, routing, the front door
// of apiServer.ts). No effect here: the API server's front loads it before the HttpApi (apiApp.ts).
import { nodeHttp } from "../runtime/os/nodeHttp.ts"

export const PROBLEM_JSON = "application/problem+json"

/** A problem body for answers written outside the HttpApi. */
export const problemBody = (
  status: number,
  detail: string,
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> => ({
  type: "about:blank",
  title: nodeHttp().STATUS_CODES[status] ?? "Error",
  status,
  detail,
  ...extra,
})
