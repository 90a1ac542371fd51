#!/usr/bin/env node
// The `sam` executable. SAM's sources are TypeScript that Node >= 22.18 runs directly.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `sam: Node ${process.versions.node} is too old; SAM needs Node >= 22.19.\n` +
      "Run it through npm (npx sam / npm run sam), which uses the project's own Node 24.",
  )
  process.exit(2)
}
await import("../src/cli/main.ts")
