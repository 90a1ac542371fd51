// SAM's own log (sam.log) is rotated like unit logs: by size, keeping max_files old files, gzipped
// when asked; every line is on disk when the call returns, and units' output is not in it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { afterEach, describe, expect, it } from "vitest"
import { openSamLog } from "../../../src/runtime/logger.ts"

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe("SAM's own log", () => {
  for (const compress of [false, true]) {
    it(`rotates by size and keeps max_files old files${compress ? ", gzipped" : ""}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "sam-own-log-"))
      dirs.push(dir)
      const errors: unknown[] = []
      const log = openSamLog(dir, "info", { maxFileBytes: 4096, maxFiles: 2, compress }, (e) =>
        errors.push(e),
      )
      for (let i = 0; i < 200; i++) log.logger.info({ unit: "web", n: i }, "transition")
      // Synchronous: the last line is on disk already.
      const current = readFileSync(join(dir, "sam.log"), "utf8").trim().split("\n")
      expect(JSON.parse(current.at(-1) as string)).toMatchObject({ n: 199, msg: "transition", app: "sam" })
      await log.close()
      const files = readdirSync(dir).sort()
      expect(files).toEqual(
        compress ? ["sam.log", "sam.log.1.gz", "sam.log.2.gz"] : ["sam.log", "sam.log.1", "sam.log.2"],
      )
      const lines = files
        .map((f) => {
          const data = readFileSync(join(dir, f))
          expect((f.endsWith(".gz") ? gunzipSync(data) : data).length).toBeLessThanOrEqual(4096)
          expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
          return (f.endsWith(".gz") ? gunzipSync(data) : data).toString().trim().split("\n")
        })
        .reverse()
        .flat()
        .map((l) => (JSON.parse(l) as { n: number }).n)
      // The newest lines, in order, with none missing between the files.
      expect(lines).toEqual(Array.from({ length: lines.length }, (_, k) => 200 - lines.length + k))
      expect(errors).toEqual([])
    })
  }
})
