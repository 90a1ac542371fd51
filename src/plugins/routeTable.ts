// Matching control-API paths against a plugin's routes ("/items/:id"). Pure: no I/O.

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

const matchSegments = (
  pattern: ReadonlyArray<string>,
  actual: ReadonlyArray<string>,
): Record<string, string> | undefined => {
  if (pattern.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    const a = actual[i] as string
    if (p.startsWith(":")) params[p.slice(1)] = decodeURIComponent(a)
    else if (p !== a) return undefined
  }
  return params
}

/** First route (in registration order) whose path and method match; HEAD is served by GET. */
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
    allowed.push(route.method)
  }
  return allowed.length > 0 ? { _tag: "MethodNotAllowed", allowed } : { _tag: "NotFound" }
}
