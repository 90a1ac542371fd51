// PLUGINS.md's plain-object plugin, as a user would save it (plugins/hello.mjs), loaded by the real
// plugin host from a config entry, and its capability called.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type ConfiguredSam, createSam } from "../../src/app/createSam.ts"
import { docBlock } from "../support/docBlock.ts"

let sam: ConfiguredSam | undefined
let dir: string | undefined
afterEach(async () => {
  await sam?.stop()
  sam = undefined
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

describe("PLUGINS.md's plain-object plugin", () => {
  it("loads without SAM's package and its greet answers", async () => {
    dir = mkdtempSync(join(tmpdir(), "sam-doc-plugin-"))
    mkdirSync(join(dir, "plugins"))
    writeFileSync(join(dir, "plugins", "hello.mjs"), docBlock("docs/PLUGINS.md", "hello-plugin"))
    writeFileSync(join(dir, "sam.config.json"), JSON.stringify({ plugins: ["./plugins/hello.mjs"] }))
    sam = await createSam(join(dir, "sam.config.json"), { cwd: dir })
    await sam.start()
    expect((await sam.invoke("greet", "World")).output).toBe("Hello, World")
  })
})
