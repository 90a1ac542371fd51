import { describe, expect, it } from "vitest"
import { cliLayer, envLayer, overrideLabel, parseOverrideValue } from "../../src/config/envLayer.ts"

describe("override values", () => {
  it("are JSON when they parse, else strings", () => {
    expect(parseOverrideValue("false")).toBe(false)
    expect(parseOverrideValue("8080")).toBe(8080)
    expect(parseOverrideValue("null")).toBe(null)
    expect(parseOverrideValue('["a"]')).toEqual(["a"])
    expect(parseOverrideValue('"8080"')).toBe("8080")
    expect(parseOverrideValue("127.0.0.1")).toBe("127.0.0.1")
    expect(parseOverrideValue("")).toBe("")
  })
})

describe("envLayer", () => {
  it("builds nested objects from SAM__ variables only, case-sensitive", () => {
    const layer = envLayer({
      SAM__agents__summaryAgent__enabled: "false",
      SAM__Api__port: "1",
      PATH: "/bin",
      SAM_VAULT_KEY: "k",
    })
    expect(layer.value).toEqual({ agents: { summaryAgent: { enabled: false } }, Api: { port: 1 } })
    expect(overrideLabel(layer, ["agents", "summaryAgent", "enabled"])).toBe(
      "env SAM__agents__summaryAgent__enabled",
    )
  })
})

describe("cliLayer", () => {
  it("applies --set in order and splits on the first =", () => {
    const layer = cliLayer(["api.port=1", "api.port=2", "agents.a.environment.X=a=b"])
    expect(layer.value).toEqual({ api: { port: 2 }, agents: { a: { environment: { X: "a=b" } } } })
    expect(layer.problems).toEqual([])
  })

  it("reports assignments without = or with empty segments", () => {
    expect(cliLayer(["api.port", "a..b=1"]).problems).toEqual([
      { label: "cli --set api.port", message: 'expected --set path.to.key=value, found "api.port"' },
      { label: "cli --set a..b", message: 'expected --set path.to.key=value, found "a..b=1"' },
    ])
  })
})
