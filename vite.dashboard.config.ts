// Builds the dashboard (src/dashboard/ui, Preact) into dist/dashboard/ui: index.html and hashed,
// immutable assets, each also written precompressed (.gz, .br) for serve.ts to send as they are,
// and dashboard.json listing them (what src/dashboard/dashboardAssets.ts loads). `npm run build`
// runs it after tsc; nothing here is loaded at run time.

import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { brotliCompressSync, constants, gzipSync } from "node:zlib"
import { defineConfig, type Plugin } from "vite"

const outDir = join(import.meta.dirname, "dist", "dashboard", "ui")

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/**
 * Writes `<file>.gz` and `<file>.br` beside every text asset, at the best compression, where that
 * is smaller than the file, and dashboard.json: each file's path, size and compressed sizes.
 */
const precompress = (): Plugin => ({
  name: "sam-precompress",
  apply: "build",
  writeBundle() {
    const files = []
    for (const file of filesUnder(outDir)) {
      const body = readFileSync(file)
      const path = `/${relative(outDir, file).split("\\").join("/")}`
      const entry: Record<string, unknown> = {
        path,
        bytes: body.length,
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
      }
      if (/\.(html|js|css|svg|json)$/.test(file)) {
        const gzip = gzipSync(body, { level: 9 })
        const brotli = brotliCompressSync(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        })
        if (gzip.length < body.length) {
          writeFileSync(`${file}.gz`, gzip)
          entry.gzip = gzip.length
        }
        if (brotli.length < body.length) {
          writeFileSync(`${file}.br`, brotli)
          entry.br = brotli.length
        }
      }
      files.push(entry)
    }
    writeFileSync(join(outDir, "dashboard.json"), `${JSON.stringify({ files }, null, 2)}\n`)
  },
})

export default defineConfig({
  root: join(import.meta.dirname, "src", "dashboard", "ui"),
  base: "/",
  publicDir: false,
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
    // Small files (the icon) become data: URLs; the page's CSP allows them for images only.
    assetsInlineLimit: 4096,
  },
  plugins: [precompress()],
})
