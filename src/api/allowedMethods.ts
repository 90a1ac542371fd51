// Which methods a control-API path allows, so a request whose method has no route answers
// `405 Method Not Allowed` with an `Allow` header instead of 404: an index of every HttpApi
// endpoint (plus the OpenAPI document), matched with the router's own FindMyWay. Pure once built.
import { FindMyWay } from "effect/http"

/** What the index reads of an HttpApi: its groups' endpoints. */
export interface EndpointSource {
  readonly groups: {
    readonly [group: string]: { readonly endpoints: { readonly [endpoint: string]: Route } }
  }
}

interface Route {
  readonly method: string
  readonly path: string
}

const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"] as const

/** `allowed(url)`: the methods some route serves at `url`'s path (HEAD with GET), sorted; [] for none. */
export const allowedMethods = (
  api: EndpointSource,
  extra: ReadonlyArray<Route> = [],
): ((url: string) => ReadonlyArray<string>) => {
  const router = FindMyWay.make<true>()
  const add = ({ method, path }: Route) => {
    router.on(method, path as `/${string}`, true)
    // The HttpRouter serves `/x/*` at `/x` too.
    if (path.endsWith("/*")) router.on(method, path.slice(0, -2) as `/${string}`, true)
  }
  for (const group of Object.values(api.groups))
    for (const endpoint of Object.values(group.endpoints)) add(endpoint)
  for (const route of extra) add(route)
  return (url) => {
    const allowed: string[] = methods.filter((m) => router.find(m, url) !== undefined)
    if (allowed.includes("GET")) allowed.push("HEAD")
    return allowed.sort()
  }
}
