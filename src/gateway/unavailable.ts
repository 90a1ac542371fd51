// What the gateway says when a service has no ready instance: why (its state) and when to come
// back. A service in backoff, or crashed with a retry due, names the seconds until SAM's next
// start (its Retry-After); one that will not come back by itself (stopped, suspended, crashed for
// good) gets no Retry-After and the command that brings it back. Pure.
import type { ServiceRoute } from "./routingTable.ts"

export interface Unavailable {
  readonly detail: string
  /** Seconds, for Retry-After; absent when nothing will change without an operator. */
  readonly retryAfterSeconds?: number
}

/** `none`: how the answer begins (an on-demand start that failed says so). */
export const unavailable = (
  route: Pick<ServiceRoute, "id" | "state" | "nextAttemptAt">,
  now: number,
  none = `"${route.id}" has no ready instance`,
): Unavailable => {
  const { id, state, nextAttemptAt } = route
  if (nextAttemptAt !== undefined) {
    const seconds = Math.max(1, Math.ceil((nextAttemptAt - now) / 1000))
    const what = state === "backoff" ? "it is in backoff after a failure" : `it is ${state}`
    return { detail: `${none}: ${what}; SAM starts it again in ${seconds} s`, retryAfterSeconds: seconds }
  }
  switch (state) {
    case "stopped":
      return { detail: `${none}: it is stopped (\`sam start ${id}\` starts it)` }
    case "suspended":
      return { detail: `${none}: it is suspended (\`sam resume ${id}\` resumes it)` }
    case "crashed":
    case "error":
      return { detail: `${none}: it is ${state} and SAM does not restart it (\`sam ps ${id}\` says why)` }
    default:
      return { detail: `${none} (it is ${state}); retry shortly`, retryAfterSeconds: 1 }
  }
}

/** The answer's headers: Retry-After when there is a time to give. */
export const unavailableHeaders = (answer: Unavailable): Record<string, string> =>
  answer.retryAfterSeconds === undefined ? {} : { "retry-after": String(answer.retryAfterSeconds) }
