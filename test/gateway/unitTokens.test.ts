import { afterEach, describe, expect, it } from "vitest"
import { UnitTokens } from "../../src/runtime/unitTokens.ts"
import { agentUnit, startAgents, stopAll } from "../support/agents.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})

describe("SAM_GATEWAY_TOKEN", () => {
  it("names its unit, cannot be forged, and is worthless to another SAM", () => {
    const tokens = new UnitTokens()
    const token = tokens.issue("caller")
    expect(token).toMatch(/^samu_caller\.[A-Za-z0-9_-]{43}$/)
    expect(tokens.verify(token)).toBe("caller")
    expect(tokens.verify(token.replace("caller", "admin"))).toBeUndefined()
    expect(tokens.verify(`${token.slice(0, -1)}x`)).toBeUndefined()
    expect(new UnitTokens().verify(token)).toBeUndefined()
    expect(tokens.verify("not-a-token")).toBeUndefined()
  })

  it("every agent runtime's process gets its unit's token in its environment", async () => {
    const runtimes = ["sandbox", "process", "worker", "inline"] as const
    const h = await startAgents(
      runtimes.map((runtime) => agentUnit(`env-${runtime}`, { runtime, agent: { capabilities: ["env"] } })),
    )
    // The router spreads calls over the four agents that offer "env": call until each answered.
    const tokens = new Map<string, string>()
    for (let i = 0; i < 100 && tokens.size < runtimes.length; i++) {
      const result = await h.sam.invoke("env", {})
      const unit = result.agent.split("#")[0] as string
      tokens.set(unit, (result.output as Record<string, string>).SAM_GATEWAY_TOKEN as string)
    }
    for (const runtime of runtimes)
      expect(tokens.get(`env-${runtime}`), runtime).toBe(h.sam.unitTokens.issue(`env-${runtime}`))
  })
})
