#!/usr/bin/env node
// The `sam` executable: checks the Node version, then runs the compiled CLI: the bundle
// (dist/bundle/sam.js, built by `npm run build`, `npm start` and `npm run sam` and shipped in the
// package), else the plain compiled modules (dist/cli/main.js). In a source checkout that has not
// been built yet it runs the TypeScript sources, which Node strips outside node_modules.
import { existsSync } from "node:fs"

const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  console.error(
    `sam: Node ${process.versions.node} is too old; SAM needs Node >= 24.\n` +
      "Install Node 24 or later, or give this project its own: `npm install --save-dev node@26`, then\n" +
      "`npx sam` runs on it (npm puts node_modules/.bin first on PATH). In SAM's own repository that\n" +
      "is already so: run it through npm (npx sam / npm run sam).",
  )
  process.exit(2)
}
// Before the CLI loads: `sam start` with two malloc arenas (re-executing itself), V8's code cache.
await import("./mallocArenas.js")
await import("./compileCache.js")
const bundled = new URL("../dist/bundle/sam.js", import.meta.url)
const compiled = new URL("../dist/cli/main.js", import.meta.url)
const sources = new URL("../src/cli/main.ts", import.meta.url)
if (existsSync(bundled)) await import(bundled.href)
else if (existsSync(compiled)) await import(compiled.href)
else if (existsSync(sources)) await import(sources.href)
else {
  console.error("sam: the compiled CLI (dist/cli/main.js) is missing: build it with `npm run build`.")
  process.exit(2)
}
