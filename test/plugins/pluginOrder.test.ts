import { describe, expect, it } from "vitest"
import { orderPlugins } from "../../src/plugins/pluginOrder.ts"
import { compileRoute, matchRoute } from "../../src/plugins/routeTable.ts"

describe("plugin order", () => {
  it("puts dependencies first and keeps the listed order otherwise", () => {
    const { order, blocked } = orderPlugins([
      { name: "dashboard", dependsOn: ["metrics"] },
      { name: "audit", dependsOn: [] },
      { name: "metrics", dependsOn: [] },
    ])
    expect(order).toEqual(["metrics", "dashboard", "audit"])
    expect(blocked.size).toBe(0)
  })

  it("blocks a dependency cycle and everything depending on it", () => {
    const { order, blocked } = orderPlugins([
      { name: "a", dependsOn: ["b"] },
      { name: "b", dependsOn: ["a"] },
      { name: "c", dependsOn: ["a"] },
      { name: "d", dependsOn: [] },
    ])
    expect(order).toEqual(["d"])
    expect(blocked.get("a")).toBe("dependency cycle: a -> b -> a")
    expect(blocked.get("c")).toBe('depends on "a", which cannot be loaded: dependency cycle: a -> b -> a')
  })
})

describe("control-API routes of a plugin", () => {
  const routes = [
    compileRoute("GET", "/items", "list"),
    compileRoute("GET", "items/:id/", "one"),
    compileRoute("POST", "/items", "create"),
  ]
  it("match by path and method with :params", () => {
    expect(matchRoute(routes, "GET", "/items/a%20b")).toMatchObject({ _tag: "Found", params: { id: "a b" } })
    expect(matchRoute(routes, "HEAD", "/items")).toMatchObject({ _tag: "Found", route: { handler: "list" } })
    expect(matchRoute(routes, "DELETE", "/items")).toEqual({
      _tag: "MethodNotAllowed",
      allowed: ["GET", "HEAD", "POST"],
    })
    expect(matchRoute(routes, "GET", "/other")).toEqual({ _tag: "NotFound" })
  })
})
