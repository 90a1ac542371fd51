import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { docBlock } from "../support/docBlock.ts"

// docs/METRICS.md's Prometheus scrape config is one Prometheus accepts: `promtool check config`.
describe("docs/METRICS.md's scrape config", () => {
  it("passes promtool check config", () => {
    const dir = mkdtempSync(join(tmpdir(), "sam-prom-"))
    try {
      const file = join(dir, "prometheus.yml")
      writeFileSync(file, docBlock("docs/METRICS.md", "prometheus-scrape"))
      const run = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" })
      if (run.error) throw new Error(`promtool is not installed (${run.error.message}): .ci/run installs it`)
      expect(`${run.stdout}${run.stderr}`).toContain("SUCCESS")
      expect(run.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
