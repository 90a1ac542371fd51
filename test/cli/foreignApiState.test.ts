// An api.json another user wrote (a shared state dir they could write in) names an address of
// theirs: the CLI refuses to follow it, so its token is never sent there. Checked as root, which
// can give the file away.
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runSam } from "./runSam.ts"

describe.runIf(process.getuid?.() === 0)("an api.json another user owns", () => {
  it("is not followed: sam ps says whose it is, exit 1, and nothing reaches the address it names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-foreign-"))
    const asked: string[] = []
    const trap = createServer((req, res) => {
      asked.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`)
      res.end("{}")
    })
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve))
    try {
      const stateDir = join(dir, ".sam")
      mkdirSync(stateDir, { mode: 0o700 })
      writeFileSync(join(stateDir, "token"), "local-admin-token-0123456789abcdef\n", { mode: 0o600 })
      const file = join(stateDir, "api.json")
      const { port } = trap.address() as AddressInfo
      writeFileSync(file, JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }))
      chownSync(file, 65534, 65534)
      writeFileSync(join(dir, "sam.config.json"), "{}")
      const run = await runSam(["ps"], { cwd: dir })
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(
        `sam: ${file} belongs to uid 65534, not to you (uid 0): another user could have written it to have your token sent to an address of theirs, so it is not followed; pass --url to reach a SAM\n`,
      )
      expect(asked).toEqual([])
    } finally {
      trap.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
