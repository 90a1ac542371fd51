// alive(): whether the SAM a record names still runs, as `sam shutdown` waits on it. A zombie
// does not run: it exited and waits for its parent to reap it (for a detached SAM the machine's
// init, which may take its time). Made here by a parent that never reaps: `sleep 0` started by a
// shell that then becomes `sleep 30`.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { alive } from "../../src/api/apiAddress.ts"
import { waitUntil } from "../support/containment.ts"

const state = (pid: number): string => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
  } catch {
    return ""
  }
}

describe("alive", () => {
  it("is true for a running process and false for a zombie or a pid that is gone", async () => {
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    })
    try {
      const zombie = await new Promise<number>((resolve) =>
        parent.stdout.once("data", (data: Buffer) => resolve(Number(data.toString().trim()))),
      )
      expect(alive(parent.pid as number)).toBe(true)
      expect(await waitUntil(() => state(zombie) === "Z", 10_000)).toBe(true)
      expect(alive(zombie)).toBe(false)
    } finally {
      parent.kill("SIGKILL")
    }
    await new Promise((resolve) => parent.once("exit", resolve))
    expect(alive(parent.pid as number)).toBe(false)
  })
})
