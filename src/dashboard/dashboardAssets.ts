// The built dashboard as the server holds it: dist/dashboard/ui (vite.dashboard.config.ts writes
// it with `npm run build`) read once into memory, each file with its precompressed variants, its
// content type and ETag. Plain Node: nothing of the UI's code is loaded, only its bytes. serve.ts
// answers requests from it.
import { existsSync, readFileSync } from "node:fs"
import { extname, join } from "node:path"
import { fileURLToPath } from "node:url"

export interface DashboardFile {
  /** The URL path: `/index.html`, `/assets/index-<hash>.js`. */
  readonly path: string
  readonly contentType: string
  readonly etag: string
  readonly identity: Uint8Array
  readonly gzip: Uint8Array | undefined
  readonly br: Uint8Array | undefined
}

export interface DashboardAssets {
  /** Where the files were read from. */
  readonly dir: string
  readonly files: ReadonlyMap<string, DashboardFile>
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
  ".woff2": "font/woff2",
}

interface ManifestEntry {
  readonly path: string
  readonly etag: string
  readonly gzip?: number
  readonly br?: number
}

/**
 * Where the built dashboard is: beside this module in the package (dist/dashboard/ui, next to
 * dist/dashboard/serve.js), else the repo's dist/dashboard/ui when SAM runs from its sources.
 */
export const dashboardDirCandidates = (): string[] => {
  const here = fileURLToPath(new URL(".", import.meta.url))
  return [join(here, "ui"), join(here, "..", "..", "dist", "dashboard", "ui")]
}

export const manifestName = "dashboard.json"

/** Read the built dashboard from `dir` (or the first candidate that has one); undefined when none is built. */
export const loadDashboardAssets = (dir?: string): DashboardAssets | undefined => {
  const found = (dir === undefined ? dashboardDirCandidates() : [dir]).find((d) =>
    existsSync(join(d, manifestName)),
  )
  if (found === undefined) return undefined
  const manifest = JSON.parse(readFileSync(join(found, manifestName), "utf8")) as {
    files: ReadonlyArray<ManifestEntry>
  }
  const files = new Map<string, DashboardFile>()
  for (const entry of manifest.files) {
    const file = join(found, ...entry.path.split("/").filter((s) => s !== ""))
    files.set(entry.path, {
      path: entry.path,
      contentType: contentTypes[extname(entry.path)] ?? "application/octet-stream",
      etag: entry.etag,
      identity: readFileSync(file),
      gzip: entry.gzip === undefined ? undefined : readFileSync(`${file}.gz`),
      br: entry.br === undefined ? undefined : readFileSync(`${file}.br`),
    })
  }
  return { dir: found, files }
}
