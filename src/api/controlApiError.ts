// How a call to the control API fails, and how the client words an answer that is not the API's:
// a connection closed midway, an error page of a proxy, a body of another program on SAM's port.
import type { IncomingMessage } from "node:http"

/** An RFC 9457 problem as the API answers it (application/problem+json). */
export interface Problem {
  readonly type?: string
  readonly title?: string
  readonly status?: number
  readonly detail?: string
  readonly [field: string]: unknown
}

/**
 * A call that failed: no answer (`status` undefined), an error answer and its problem, or an
 * answer that is not the control API's (not JSON, another shape, cut short).
 */
export class ControlApiError extends Error {
  readonly _tag = "ControlApiError"
  /** `POST /api/services/:id/stop` */
  readonly endpoint: string
  readonly url: string
  readonly status: number | undefined
  readonly problem: Problem | undefined
  /** Nothing could be reached at `url` (refused, no route): no SAM runs there. A reset is not that. */
  readonly unreachable: boolean
  constructor(fields: {
    endpoint: string
    url: string
    status?: number | undefined
    problem?: Problem
    unreachable?: boolean
    message: string
    cause?: unknown
  }) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = "ControlApiError"
    this.endpoint = fields.endpoint
    this.url = fields.url
    this.status = fields.status
    this.problem = fields.problem
    this.unreachable = fields.unreachable ?? false
  }
}

/** The whole body of an answer to `endpoint`; a connection that closes midway is a ControlApiError. */
export const readAll = async (body: IncomingMessage, endpoint: string, url: string): Promise<string> => {
  const chunks: Buffer[] = []
  try {
    for await (const chunk of body) chunks.push(chunk as Buffer)
  } catch (error) {
    const received = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
    const length = body.headers["content-length"]
    throw new ControlApiError({
      endpoint,
      url,
      status: body.statusCode,
      message:
        `the answer to ${endpoint} from ${url} was cut short (HTTP ${body.statusCode}, the connection closed ` +
        `after ${received}${length === undefined ? "" : ` of ${length}`} bytes): SAM may have stopped while answering`,
      cause: error,
    })
  }
  return Buffer.concat(chunks).toString("utf8")
}

/** Connection errors of a server that accepted the connection, then closed it without an answer. */
export const resetCodes: ReadonlySet<string | undefined> = new Set(["ECONNRESET", "EPIPE"])

/** Something else answered on SAM's address (`what` it sent): say so rather than fail on it. */
export const notSam = (
  response: IncomingMessage,
  endpoint: string,
  url: string,
  what: string,
  who = "another program may hold that port",
): ControlApiError => {
  const type = response.headers["content-type"] ?? "no content type"
  return new ControlApiError({
    endpoint,
    url,
    status: response.statusCode,
    message:
      `what answered ${endpoint} at ${url} is not SAM's control API (HTTP ${response.statusCode}, ${type}: ${what}): ` +
      `${who}; point the CLI at SAM with --url or SAM_URL`,
  })
}

/** The start of a body that is not the API's, quoted on one line. */
export const snippet = (text: string): string =>
  JSON.stringify((text.length > 60 ? `${text.slice(0, 60)}…` : text).trim())
