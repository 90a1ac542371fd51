// An agent that offers a capability its config does not declare: `sam start` says so where the
// operator looks (no call reaches it), not only in the agent's own log.
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { repoRoot } from "../cli/runSam.ts"
import { type Project, project } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("an agent's undeclared capabilities", () => {
  it("are named on sam start's console with the config key to list them in", async () => {
    p = project()
    p.writeConfig({
      agents: {
        teller: {
          path: join(repoRoot, "test", "fixtures", "agents", "logger"),
          runtime: "process",
          capabilities: ["say"],
        },
      },
    })
    const sam = await p.start()
    await sam.waitForOutput(
      /sam: agent teller offers "detail", "fail" not declared in its config; no call reaches them until listed in agents\.teller\.capabilities/,
    )
    await sam.waitForOutput("press Ctrl+C")
  })
})
