import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { describe, expect, it } from "vitest"
import { tempProject } from "../support/plugins.ts"
import { fixture } from "../support/runtime.ts"

describe("hot reload under Node's own module loader", () => {
  it("an edit to a file the plugin imports reloads the plugin with the new file", async () => {
    const project = tempProject()
    project.write("multi/helper.mjs", 'export const answer = "helper v1"\n')
    project.write(
      "multi/index.mjs",
      `import { answer } from "./helper.mjs"
export default {
  name: "multi",
  version: "1.0.0",
  setup(ctx) {
    ctx.capabilities.register("which", () => answer)
  },
}
`,
    )
    const child = spawn(process.execPath, [fixture("plugin-host-child.ts"), project.dir, "1"], {
      stdio: ["ignore", "pipe", "inherit"],
    })
    const lines = createInterface({ input: child.stdout })
    const seen: Array<{ event: string; output: unknown; status: { reloads: number } }> = []
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    try {
      for await (const line of lines) {
        seen.push(JSON.parse(line))
        if (seen.length === 1) project.write("multi/helper.mjs", 'export const answer = "helper v2"\n')
      }
      expect(await exited).toBe(0)
      expect(seen.map((s) => [s.event, s.output, s.status.reloads])).toEqual([
        ["started", "helper v1", 0],
        ["plugin.reloaded", "helper v2", 1],
      ])
    } finally {
      child.kill()
      project.remove()
    }
  })
})
