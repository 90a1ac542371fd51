#!/usr/bin/env node
// The `sam` executable: checks the Node version, then runs the compiled CLI: the bundle
// (dist/bundle/sam.js, built by `npm run build`, `npm start` and `npm run sam` and shipped in the
// package), else the plain compiled modules (dist/cli/main.js). In a source checkout that has not
// been built yet it runs the TypeScript sources, which Node strips outside node_modules.
import { existsSync } from "node:fs"
import nodeModule from "node:module"
import { homedir } from "node:os"
import { join } from "node:path"

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
// glibc gives each thread that allocates an arena of its own and keeps in it what V8's helper
// threads freed; with two arenas the daemon holds ~6 MB less (bench/RESULTS.md, "Findings"). The
// limit only takes at exec, so `sam start` re-executes itself once, same pid (process.execve; one
// more Node start, which the code cache below wins back), and drops the variable again at once:
// the units it starts do not inherit it. A MALLOC_ARENA_MAX of the user's own is kept as it is,
// and a failed exec leaves SAM running as it was started.
const arenas = "MALLOC_ARENA_MAX"
if (process.env.SAM_REEXECUTED === arenas) {
  delete process.env.SAM_REEXECUTED
  delete process.env[arenas]
} else if (
  process.platform === "linux" &&
  process.argv[2] === "start" &&
  process.env[arenas] === undefined &&
  typeof process.execve === "function"
) {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      [arenas]: "2",
      SAM_REEXECUTED: arenas,
    })
  } catch {
    // an optimization only
  }
}
// V8's code cache for the CLI's modules, in the user's own cache dir (not a shared /tmp one: a
// cache entry is code that gets run): `sam validate` 144 → 118 ms (bench/RESULTS.md, "Findings").
// NODE_COMPILE_CACHE picks another dir and NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's own).
if (process.env.NODE_COMPILE_CACHE === undefined && (process.env.XDG_CACHE_HOME || process.env.HOME)) {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), ".cache")
  nodeModule.enableCompileCache(join(cacheHome, "sam", "node-compile-cache"))
}
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
