// SAM_<ID>_URL of a scaled dependency: instance 0's address (a scale down removes the highest
// instances first, never it), waited for while it comes up, so a dependent is not pinned to an
// instance a later scale removes.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { httpCheck, nodeService } from "../support/runtime.ts"
import { samPerTest } from "../support/samPerTest.ts"

const newSam = samPerTest()

/** A variable of a running process, from /proc (as the process itself sees its environment). */
const envOf = (pid: number, name: string): string | undefined =>
  readFileSync(`/proc/${pid}/environ`, "utf8")
    .split("\0")
    .find((entry) => entry.startsWith(`${name}=`))
    ?.slice(name.length + 1)

describe("a dependent of a scaled service", () => {
  it("gets instance 0's address even when another instance is ready first, and it keeps answering when the service scales down", async () => {
    const db = nodeService("db", "first-instance-slow.mjs", {
      instances: 3,
      maxInstances: 3,
      env: { READY_AFTER_MS: "800" },
      probes: [httpCheck({ intervalMs: 50, failureThreshold: 1 })],
    })
    // Ready once it answers: its pid's environment is then the service's own (past the exec of
    // the containment wrapper, during which /proc/<pid>/environ can read empty).
    const web = {
      ...nodeService("web", "http-service.mjs", { probes: [httpCheck({ intervalMs: 50 })] }),
      dependsOn: ["db"],
    }
    const s = newSam({ units: [db, web], startTimeoutMs: 20_000 })
    expect((await s.start()).notReady).toEqual([])
    const first = s.unitStatus("db").instances[0]
    const url = envOf(s.unitStatus("web").pid as number, "SAM_DB_URL")
    expect(url).toBe(`http://127.0.0.1:${first?.port}`)
    await s.scale("db", 1)
    expect(s.unitStatus("db").instances).toHaveLength(1)
    expect(await (await fetch(`${url}/whoami`)).json()).toEqual({ instance: "0" })
  })
})
