import { describe, expect, it } from "vitest"
import { didYouMean, suggestionSuffix } from "../../src/config/suggest.ts"

describe("didYouMean", () => {
  it("finds typos: a missing letter, a swapped pair, another case", () => {
    expect(didYouMean("qdrnt", ["qdrant", "redis"])).toBe("qdrant")
    expect(didYouMean("hots", ["host", "port"])).toBe("host")
    expect(didYouMean("API", ["api", "agents"])).toBe("api")
    expect(didYouMean("helth_check", ["health_check", "heartbeat"])).toBe("health_check")
  })

  it("stays quiet when nothing is close", () => {
    expect(didYouMean("zzz", ["qdrant", "redis"])).toBeUndefined()
    expect(suggestionSuffix("zzz", ["api"])).toBe("")
    expect(suggestionSuffix("prot", ["port"])).toBe(' (did you mean "port"?)')
  })
})
