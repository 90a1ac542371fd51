// A one-shot job written without restart_policy is restarted (the default is "always", as PM2's):
// `sam start` says so once, naming the key that makes it a job.
import { afterEach, describe, expect, it } from "vitest"
import { fixturePath, type Project, project } from "../support/daemon.ts"

let p: Project | undefined
afterEach(async () => {
  const left = await p?.cleanup()
  p = undefined
  expect(left ?? []).toEqual([])
})

describe("a job without a restart_policy", () => {
  it("is told once that it is started again, and how to make it run once; one with a policy is not", async () => {
    p = project()
    const job = (extra: Record<string, unknown> = {}) => ({
      deployment: {
        mode: "process",
        command: process.execPath,
        args: [fixturePath("exit.mjs")],
        env: { EXIT_CODE: "0" },
      },
      ...extra,
    })
    p.writeConfig({
      services: {
        seed: { ...job(), restart_policy: { backoff_seconds: 0.05 } },
        migrate: job({ restart_policy: "on-failure" }),
        loop: job(),
      },
    })
    const sam = await p.start()
    const hint = (id: string) =>
      `sam: hint: ${id} exited 0 and is started again: its restart_policy is "always", the default (as PM2's autorestart; Compose's is "no"); a job that runs once wants restart_policy: "on-failure"`
    await sam.waitForOutput(hint("loop"))
    // Told once, though it keeps exiting; migrate is a job, seed chose its policy.
    await sam.waitForOutput(/ {3}✓ loop exited with code 0\n(?:.*\n)* {3}✓ loop exited with code 0\n/)
    expect(sam.output().split(hint("loop")).length).toBe(2)
    expect(sam.output()).not.toContain(hint("migrate"))
    expect(sam.output()).not.toContain(hint("seed"))
  })
})
