// The second half of `npm run build`: after tsc has compiled src/ to dist/ (the package's exports
// and types), this bundles the CLI into dist/bundle/ (what bin/sam.js runs) and copies the files
// tsc does not (the reaper's shell script). Run by `npm run build`; `node build/bundle.ts`.
//
// Why a bundle: the compiled daemon loads ~1,500 modules (10 MB of JavaScript, most of it effect);
// one tree-shaken, whitespace-minified bundle loads ~1.3 MB and halves the daemon's resident
// memory (bench/RESULTS.md, "Findings"). Every `import.meta.url` in SAM's sources is rewritten to
// the URL of the module's compiled twin in dist/, so paths computed from it (the agent SDK, the
// reaper script, package.json) point where they point in the unbundled build.
import { copyFileSync, mkdirSync, rmSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { build, type Plugin } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))
const src = join(root, "src")
const dist = join(root, "dist")
const outdir = join(dist, "bundle")

/** Files of src/ that are not TypeScript and that the compiled code finds next to itself. */
const assets = ["runtime/containment/reaper.sh"]

/** `import.meta.url` of src/a/b.ts becomes the URL of dist/a/b.js, computed from the chunk's own URL. */
const twinUrls: Plugin = {
  name: "sam-twin-urls",
  setup(bundle) {
    bundle.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8")
      if (!source.includes("import.meta.url")) return { contents: source, loader: "ts" }
      const twin = join(dist, relative(src, args.path)).replace(/\.ts$/, ".js")
      const fromChunk = relative(outdir, twin)
      return {
        contents: source.replaceAll(
          "import.meta.url",
          `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`,
        ),
        loader: "ts",
      }
    })
  },
}

for (const asset of assets) {
  mkdirSync(dirname(join(dist, asset)), { recursive: true })
  copyFileSync(join(src, asset), join(dist, asset))
}

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { sam: join(root, "build", "cliEntry.ts"), index: join(src, "index.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node24",
  // Whitespace and syntax only: names stay, so a stack trace still reads; the map points at src/.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  sourcesContent: false,
  // Some dependencies are CommonJS and require Node's built-ins.
  banner: {
    js: "import{createRequire as __samRequire}from'node:module';const require=__samRequire(import.meta.url);",
  },
  plugins: [twinUrls],
  logLevel: "warning",
})
