import { describe, expect, it } from "vitest"
import { mergeLayers, originOf } from "../../src/config/merge.ts"

describe("mergeLayers", () => {
  it("deep-merges objects, later layers win, and records which layer set each value", () => {
    const { value, origins } = mergeLayers([
      { name: "a", value: { api: { host: "h", port: 1 }, x: 1 } },
      { name: "b", value: { api: { port: 2 } } },
    ])
    expect(value).toEqual({ api: { host: "h", port: 2 }, x: 1 })
    expect(origins.get("api.host")).toBe("a")
    expect(origins.get("api.port")).toBe("b")
  })

  it("replaces arrays instead of concatenating them", () => {
    const { value, origins } = mergeLayers([
      { name: "a", value: { plugins: ["one", "two"] } },
      { name: "b", value: { plugins: ["three"] } },
    ])
    expect(value.plugins).toEqual(["three"])
    expect(origins.get("plugins")).toBe("b")
  })

  it("lets a scalar replace an object and an object replace a scalar, forgetting stale origins", () => {
    const { value, origins } = mergeLayers([
      { name: "a", value: { r: { max_restarts: 3 }, s: "on-failure" } },
      { name: "b", value: { r: "always", s: { max_restarts: 1 } } },
    ])
    expect(value).toEqual({ r: "always", s: { max_restarts: 1 } })
    expect(origins.has("r.max_restarts")).toBe(false)
    expect(origins.get("r")).toBe("b")
    expect(origins.has("s")).toBe(false)
    expect(origins.get("s.max_restarts")).toBe("b")
  })

  it("treats undefined as absent and ignores layers that are not objects", () => {
    const { value } = mergeLayers([
      { name: "a", value: { x: 1 } },
      { name: "b", value: { x: undefined } },
      { name: "c", value: "nonsense" },
    ])
    expect(value).toEqual({ x: 1 })
  })

  it("does not share structure with its inputs", () => {
    const input = { list: [{ a: 1 }] }
    const { value } = mergeLayers([{ name: "a", value: input }])
    ;(value.list as Array<{ a: number }>)[0]!.a = 2
    expect(input.list[0]!.a).toBe(1)
  })
})

describe("originOf", () => {
  const origins = new Map([
    ["services.q.restart_policy", "system.yaml"],
    ["api.port", "cli"],
  ])
  it("names the layer of a value, of an ancestor set as a whole, or defaults", () => {
    expect(originOf(origins, ["api", "port"])).toBe("cli")
    expect(originOf(origins, ["services", "q", "restart_policy", "type"])).toBe("system.yaml")
    expect(originOf(origins, ["api", "host"])).toBe("defaults")
  })
})
