// Vitest global setup: build the dashboard (dist/dashboard/ui) when it is missing or older than
// its sources, once before any test file runs, so tests that serve it never race to build it.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "..")
const manifest = join(root, "dist", "dashboard", "ui", "dashboard.json")

const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  )

export default function setup(): void {
  const sources = Math.max(
    newest(join(root, "src", "dashboard", "ui")),
    statSync(join(root, "vite.dashboard.config.ts")).mtimeMs,
  )
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= sources) return
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "vite.dashboard.config.ts"],
    {
      cwd: root,
      stdio: "inherit",
    },
  )
}
