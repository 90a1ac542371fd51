// Entry of the bundled CLI (dist/bundle/sam.js; bin/sam.js runs it). A config, plugin or inline
// agent that imports "sam" gets this bundle's own library entry (dist/bundle/index.js, chunks
// shared with the daemon) instead of dist/index.js: one copy of SAM in the process, not two.
import { registerHooks } from "node:module"

const unbundled = new URL("../index.js", import.meta.url).href
const bundled = new URL("./index.js", import.meta.url).href

registerHooks({
  resolve: (specifier, context, next) => {
    const resolved = next(specifier, context)
    return resolved.url === unbundled ? { ...resolved, url: bundled } : resolved
  },
})

// Imported after the hook is in place (a static import would run first).
await import("../src/cli/main.ts")
