#!/usr/bin/env node
// The `sam` executable: checks the Node version, then runs the compiled CLI (dist/, built by
// `npm run build`; an installed package ships it, a source checkout builds it with `npm start`).
import { existsSync } from "node:fs"

const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  console.error(
    `sam: Node ${process.versions.node} is too old; SAM needs Node >= 24.\n` +
      "In SAM's own repository, run it through npm (npx sam / npm run sam), which uses the project's Node 26.",
  )
  process.exit(2)
}
const main = new URL("../dist/cli/main.js", import.meta.url)
if (!existsSync(main)) {
  console.error(
    "sam: the compiled CLI (dist/cli/main.js) is missing. In a source checkout, build it with " +
      "`npm run build` (npm start and npm run sam build first).",
  )
  process.exit(2)
}
await import(main.href)
