// The control API from the page: same-origin fetch, so the browser sends the session cookie
// (and, for changes, its Origin, which SAM checks). Errors are RFC 9457 problems; callers get
// them as ApiProblem with the status and the problem's detail (a 409 names the unit's state).

export class ApiProblem extends Error {
  readonly status: number
  readonly problem: Record<string, unknown>
  constructor(status: number, problem: Record<string, unknown>, fallback: string) {
    super(typeof problem.detail === "string" ? problem.detail : fallback)
    this.name = "ApiProblem"
    this.status = status
    this.problem = problem
  }
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Call `method path` with an optional JSON body; resolves with the parsed answer. */
export const call = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
  const response = await fetch(path, {
    method,
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: "same-origin",
    cache: "no-store",
  })
  const text = await response.text()
  const parsed = text === "" ? undefined : parse(text)
  if (!response.ok)
    throw new ApiProblem(
      response.status,
      typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {},
      `${method} ${path} answered ${response.status}`,
    )
  return parsed as A
}

export const get = <A>(path: string): Promise<A> => call<A>("GET", path)

/** GET that answers undefined for a 404 (an endpoint this SAM does not have, or a unit gone). */
export const getIfThere = async <A>(path: string): Promise<A | undefined> => {
  try {
    return await get<A>(path)
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return undefined
    throw error
  }
}

export const unitPath = (kind: "agent" | "service", id: string): string =>
  `/api/${kind === "agent" ? "agents" : "services"}/${encodeURIComponent(id)}`
