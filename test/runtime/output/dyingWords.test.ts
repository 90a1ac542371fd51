// Which stderr line an exit's reason quotes: the last one, or a crash dump's error line.
import { describe, expect, it } from "vitest"
import { dyingWords } from "../../../src/runtime/output/dyingWords.ts"
import type { OutputLine } from "../../../src/runtime/output/recentLines.ts"

const stderr = (...lines: string[]): OutputLine[] =>
  lines.map((line) => ({ time: 10, stream: "stderr", line }))

describe("the words an instance died with", () => {
  it("is its last stderr line when that says something", () => {
    expect(dyingWords(stderr("starting", "fatal: config missing"), 0)).toBe("fatal: config missing")
  })

  it("is the error line of a Node crash dump", () => {
    const dump = stderr(
      "file:///srv/app/server.mjs:4",
      "    throw new TypeError('bad port')",
      "    ^",
      "",
      "TypeError: bad port",
      "    at file:///srv/app/server.mjs:4:11",
      "    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)",
      "",
      "Node.js v26.10.0",
    )
    expect(dyingWords(dump, 0)).toBe("TypeError: bad port")
    const coded = stderr(
      "node:internal/modules/esm/resolve:275",
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/srv/app/missing.mjs'",
      "    at finalizeResolution (node:internal/modules/esm/resolve:275:11) {",
      "  code: 'ERR_MODULE_NOT_FOUND',",
      "  url: 'file:///srv/app/missing.mjs'",
      "}",
      "",
      "Node.js v26.10.0",
    )
    expect(dyingWords(coded, 0)).toBe(
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/srv/app/missing.mjs'",
    )
  })

  it("only counts what this incarnation wrote, and stdout not at all", () => {
    const lines: OutputLine[] = [
      { time: 1, stream: "stderr", line: "Error: the last run's" },
      { time: 20, stream: "stdout", line: "listening" },
    ]
    expect(dyingWords(lines, 10)).toBeUndefined()
  })
})
