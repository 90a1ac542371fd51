// Matching control-API paths against a plugin's routes ("/items/:id"): a route, the methods a
// path allows (for 405 + Allow), or nothing. Pure: no I/O. The API serves them (src/api).

export interface CompiledRoute<H> {
  readonly method: string
  readonly path: string
  readonly segments: ReadonlyArray<string>
  readonly handler: H
}

export type RouteMatch<H> =
  | { readonly _tag: "Found"; readonly route: CompiledRoute<H>; readonly params: Record<string, string> }
  | { readonly _tag: "MethodNotAllowed"; readonly allowed: ReadonlyArray<string> }
  | { readonly _tag: "NotFound" }

const split = (path: string): string[] => path.split("/").filter((s) => s !== "")

/** "items/:id/" → "/items/:id"; "" → "/". */
export const normalizeRoutePath = (path: string): string => `/${split(path).join("/")}`

export const compileRoute = <H>(method: string, path: string, handler: H): CompiledRoute<H> => ({
  method: method.toUpperCase(),
  path: normalizeRoutePath(path),
  segments: split(path),
  handler,
})

/** A path segment with its percent-escapes decoded; undefined when they are malformed. */
const decoded = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

const matchSegments = (
  pattern: ReadonlyArray<string>,
  actual: ReadonlyArray<string>,
): Record<string, string> | undefined => {
  if (pattern.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    const a = actual[i] as string
    if (p.startsWith(":")) {
      const value = decoded(a)
      if (value === undefined) return undefined
      params[p.slice(1)] = value
    } else if (p !== a) return undefined
  }
  return params
}

/**
 * First route (in registration order) whose path and method match; HEAD is served by GET. A path
 * whose routes all have other methods is MethodNotAllowed with those methods (HEAD with GET).
 */
export const matchRoute = <H>(
  routes: ReadonlyArray<CompiledRoute<H>>,
  method: string,
  path: string,
): RouteMatch<H> => {
  const actual = split(path)
  const wanted = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase()
  const allowed: string[] = []
  for (const route of routes) {
    const params = matchSegments(route.segments, actual)
    if (params === undefined) continue
    if (route.method === wanted) return { _tag: "Found", route, params }
    if (!allowed.includes(route.method)) allowed.push(route.method)
    if (route.method === "GET" && !allowed.includes("HEAD")) allowed.push("HEAD")
  }
  return allowed.length > 0 ? { _tag: "MethodNotAllowed", allowed: allowed.sort() } : { _tag: "NotFound" }
}
