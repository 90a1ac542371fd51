// Which changes under a watched unit count (pure: no files are touched here; watch.test.ts has
// the real fs events).
import { describe, expect, it } from "vitest"
import { WATCH_DEFAULTS } from "../../src/config/watchConfig.ts"
import { describeChange, globRegExp, ignoreRule } from "../../src/runtime/watch/ignoreRules.ts"

const ignored = ignoreRule({
  paths: ["/app", "/shared/config.json"],
  ignore: [...WATCH_DEFAULTS.ignore, "cache", "dist/**", "build/*.txt", "/app/tmp"],
  ignoreDirs: ["/app/.sam", "/data/agent"],
})

describe("ignore rules", () => {
  it("a name without / matches a file or folder of that name anywhere, and what is beneath it", () => {
    expect(ignored("/app/node_modules")).toBe(true)
    expect(ignored("/app/node_modules/left-pad/index.js")).toBe(true)
    expect(ignored("/app/packages/x/node_modules/y.js")).toBe(true)
    expect(ignored("/app/.git/HEAD")).toBe(true)
    expect(ignored("/app/server.log")).toBe(true)
    expect(ignored("/app/logs/today.log")).toBe(true)
    expect(ignored("/app/src/.index.ts.swp")).toBe(true)
    expect(ignored("/app/src/index.ts~")).toBe(true)
    expect(ignored("/app/lib/cache/entry.json")).toBe(true)
  })

  it("a pattern with / is a path from the watched folder: that file, or that folder and everything beneath", () => {
    expect(ignored("/app/dist/bundle.js")).toBe(true)
    expect(ignored("/app/src/dist/bundle.js")).toBe(false)
    expect(ignored("/app/build/report.txt")).toBe(true)
    expect(ignored("/app/build/main.js")).toBe(false)
    expect(ignored("/app/tmp/upload")).toBe(true)
  })

  it("SAM's state dir and an agent's data dir never count, wherever they are", () => {
    expect(ignored("/app/.sam/state.db-wal")).toBe(true)
    expect(ignored("/app/.sam/logs/web.log")).toBe(true)
    expect(ignored("/data/agent/notes.json")).toBe(true)
    expect(ignored("/app/.samples/a.js")).toBe(false)
  })

  it("code counts, and a path named in watch.paths is never ignored by a pattern", () => {
    expect(ignored("/app/src/index.ts")).toBe(false)
    expect(ignored("/app/server.mjs")).toBe(false)
    expect(ignored("/app/logs.ts")).toBe(false)
    expect(ignored("/shared/config.json")).toBe(false)
    expect(
      ignoreRule({ paths: ["/app/node_modules/dep"], ignore: ["node_modules"], ignoreDirs: [] })(
        "/app/node_modules/dep/index.js",
      ),
    ).toBe(false)
  })
})

describe("globs", () => {
  it("* and ? stay within a name, ** crosses folders, [...] is a class; a leading dot is no exception", () => {
    const cases: Array<[string, string, boolean]> = [
      ["*.log", "a.log", true],
      ["*.log", "logs/a.log", false],
      ["*.swp", ".index.ts.swp", true],
      ["?.js", "a.js", true],
      ["?.js", "ab.js", false],
      ["**/*.test.ts", "a.test.ts", true],
      ["**/*.test.ts", "x/y/a.test.ts", true],
      ["src/**", "src/a/b.ts", true],
      ["src/**", "srcs/a.ts", false],
      ["[ab].txt", "b.txt", true],
      ["[!ab].txt", "b.txt", false],
      ["a+b(c).txt", "a+b(c).txt", true],
      ["a.txt", "abtxt", false],
      ["[oops", "[oops", true],
    ]
    for (const [glob, path, expected] of cases)
      expect([glob, path, globRegExp(glob).test(path)]).toEqual([glob, path, expected])
  })
})

describe("the changed path in a reason", () => {
  it("is relative to the config's folder when beneath it, else absolute", () => {
    expect(describeChange("/project/src/index.ts", "/project")).toBe("src/index.ts")
    expect(describeChange("/elsewhere/lib.ts", "/project")).toBe("/elsewhere/lib.ts")
    expect(describeChange("/project", "/project")).toBe(".")
    expect(describeChange("/project/a.ts", undefined)).toBe("/project/a.ts")
  })
})
