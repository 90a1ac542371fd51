// An agent's ctx.logger honours the log level in effect: SAM's runtime.log_level (as it is now: a
// reload changes it), or the agent's own log_level; what it keeps carries its level in the record.
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { agentUnit, removeScratch, startAgents, stopAll } from "../support/agents.ts"
import { fixture } from "../support/runtime.ts"

afterEach(async () => {
  expect(await stopAll()).toEqual([])
})
afterAll(removeScratch)

const talker = (id: string, runtime: "process" | "worker" | "inline", logLevel?: "debug" | "warn") =>
  agentUnit(id, {
    runtime,
    agent: {
      path: fixture("agents/logger"),
      capabilities: ["say", "detail", "fail"],
      ...(logLevel ? { logLevel } : {}),
    },
  })

describe("an agent's ctx.logger and the log level", () => {
  for (const runtime of ["process", "worker", "inline"] as const)
    it(`drops debug at info, keeps it for log_level debug, and records each entry's level (${runtime})`, async () => {
      const h = await startAgents([talker("plain", runtime)], { logLevel: "info" })
      const said = async (unit: string) => {
        const last = h.nextLine((line) => line === "error: error: hi", unit)
        await h.sam.invoke("say", { text: "hi" })
        await last
        return (await h.sam.logs.read(unit))
          .filter((r) => r.level !== undefined)
          .map(({ stream, level, line }) => ({ stream, level, line }))
      }
      expect(await said("plain")).toEqual([
        { stream: "stdout", level: "info", line: "info: hi" },
        { stream: "stderr", level: "warn", line: "warn: warn: hi" },
        { stream: "stderr", level: "error", line: "error: error: hi" },
      ])
      // Details are formatted into the line as console.log formats them.
      const detail = h.nextLine((line) => line.startsWith("loaded"), "plain")
      await h.sam.invoke("detail", {})
      expect(await detail).toBe("loaded { n: 3 }")
      // runtime.log_level as it is now: a reload to warn drops info too.
      h.sam.logLevel = "warn"
      expect((await said("plain")).slice(4).map((r) => r.level)).toEqual(["warn", "error"])
      await stopAll()

      const loud = await startAgents([talker("loud", runtime, "debug")], { logLevel: "info" })
      const last = loud.nextLine((line) => line === "error: error: hi", "loud")
      await loud.sam.invoke("say", { text: "hi" })
      await last
      expect((await loud.sam.logs.read("loud")).find((r) => r.level !== undefined)).toMatchObject({
        stream: "stdout",
        level: "debug",
        line: "debug: debug: hi",
      })
    })
})
