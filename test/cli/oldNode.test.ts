import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

// The `sam` executable under a Node older than SAM supports (this machine's own /usr/bin/node is
// 20; the project's Node 26 comes from its `node` devDependency): a clear exit 2 saying what to do.
const bin = fileURLToPath(new URL("../../bin/sam.js", import.meta.url))
const oldNode = "/usr/bin/node"

describe("sam on an old Node", () => {
  it("exits 2 naming the version needed and how a project gets it", () => {
    expect(existsSync(oldNode), `${oldNode} (the machine's Node 20) is missing`).toBe(true)
    const version = spawnSync(oldNode, ["--version"], { encoding: "utf8" }).stdout.trim()
    expect(Number(version.slice(1).split(".")[0])).toBeLessThan(24)
    const run = spawnSync(oldNode, [bin, "--version"], { encoding: "utf8" })
    expect(run.status).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toBe(
      `sam: Node ${version.slice(1)} is too old; SAM needs Node >= 24.\n` +
        "Install Node 24 or later, or give this project its own: `npm install --save-dev node@26`, then\n" +
        "`npx sam` runs on it (npm puts node_modules/.bin first on PATH). In SAM's own repository that\n" +
        "is already so: run it through npm (npx sam / npm run sam).\n",
    )
  })
})
